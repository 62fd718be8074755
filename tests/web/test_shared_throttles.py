"""Sign-in and invitation throttles are shared by every worker (issue 14, point 5).

Two app instances (two workers, or two machines) on one database count into one throttle, on
SQLite and on PostgreSQL; with Redis configured, they count in Redis. A stranger's failures
block the stranger's address, not the user's; an admin lifts the block on the admin page.
"""

from __future__ import annotations

import re
from contextlib import ExitStack

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.deps import throttle_guard
from api.settings import Environment, Settings
from surveys.accounts.service import find_user_by_email
from surveys.accounts.signin import MAX_FAILURES
from surveys.throttles.store import DatabaseStore, Guard, RedisStore
from tests.accounts_fixtures import STAFF_PASSWORD, make_user, sign_in
from tests.redis_server import redis_prefix, redis_store

__all__ = ["redis_prefix"]  # the fixture, used by name

STRANGER = ("203.0.113.66", 40000)
COLLEAGUE = ("192.0.2.10", 40000)


def login(client: TestClient, email: str, password: str = STAFF_PASSWORD) -> int:
    """Post the sign-in form (its CSRF token fetched once per client)."""
    token = client.headers.get("X-Test-Login-CSRF")
    if token is None:
        match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert match
        token = client.headers["X-Test-Login-CSRF"] = match.group(1)
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post("/login", data=data, follow_redirects=False).status_code


@pytest.fixture(scope="module")
def instances(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[FastAPI, ...]:
    """Two app instances (built once per database: building one takes a second here)."""
    settings = Settings(
        environment=Environment.TEST,
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("instances"),
        secret_key="test-secret-" + "x" * 32,
        pseudonym_secret="test-pseudonym-" + "y" * 32,
    )
    return create_app(settings), create_app(settings)


@pytest.fixture
def two_apps(
    instances: tuple[FastAPI, FastAPI], session_factory: sessionmaker[Session]
) -> tuple[FastAPI, FastAPI]:
    """The two instances on the one test database, each with its own state, as two workers."""
    for app in instances:
        app.state.session_factory = session_factory
        app.state.throttle_guard = throttle_guard(app.state.settings)
    return instances


def clients(
    stack: ExitStack, apps: tuple[FastAPI, ...], address: tuple[str, int]
) -> list[TestClient]:
    return [
        stack.enter_context(TestClient(app, raise_server_exceptions=False, client=address))
        for app in apps
    ]


def new_user(session_factory: sessionmaker[Session], role: str) -> str:
    with session_factory() as session, session.begin():
        return make_user(session, role=role).email


def user_id(session_factory: sessionmaker[Session], email: str) -> int:
    with session_factory() as session:
        user = find_user_by_email(session, email)
        assert user is not None
        return user.id


def test_two_instances_on_one_database_share_the_sign_in_throttle(
    two_apps: tuple[FastAPI, FastAPI], session_factory: sessionmaker[Session]
) -> None:
    email = new_user(session_factory, "admin")
    with ExitStack() as stack:
        first, second = clients(stack, two_apps, STRANGER)
        half = MAX_FAILURES // 2
        assert [login(first, email, "wrong password!") for _ in range(half)] == [422] * half
        rest = [login(second, email, "wrong password!") for _ in range(MAX_FAILURES - half)]
        assert rest[-1] == 429  # the tenth failure, over both instances, blocks the stranger
        assert login(first, email) == 429
        # ... and only the stranger: the admin signs in from their own address,
        (own,) = clients(stack, two_apps[1:], COLLEAGUE)
        assert login(own, email) == 303
        # and, once there, lifts the block on the admin page.
        signed = sign_in(own, session_factory, role="admin")
        response = own.post(
            f"/admin/users/{user_id(session_factory, email)}/unlock",
            data={"csrf_token": signed.csrf},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert login(first, email) == 303


def test_two_instances_share_the_invitation_throttle(
    two_apps: tuple[FastAPI, FastAPI],
) -> None:
    with ExitStack() as stack:
        first, second = clients(stack, two_apps, STRANGER)
        for client in (first, second):  # 2 x 10 invalid links: allowed
            assert {client.get("/i/guessed-token").status_code for _ in range(10)} == {404}
        blocked = first.get("/i/guessed-token")  # the 21st, on the other instance
        assert blocked.status_code == 429
        assert 890 <= int(blocked.headers["retry-after"]) <= 900
        assert second.get("/i/another-guess").status_code == 429
        (colleague,) = clients(stack, two_apps[:1], COLLEAGUE)
        assert colleague.get("/i/guessed-token").status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # Redis is the point here
def test_with_redis_configured_the_instances_count_in_redis(
    two_apps: tuple[FastAPI, FastAPI],
    session_factory: sessionmaker[Session],
    settings: Settings,
    redis_prefix: str,
) -> None:
    configured = throttle_guard(settings.model_copy(update={"redis_url": "redis://127.0.0.1/0"}))
    assert isinstance(configured.store, RedisStore)
    assert isinstance(throttle_guard(settings).store, DatabaseStore)
    for app in two_apps:  # the same store, with a prefix of this test's own
        app.state.throttle_guard = Guard(redis_store(redis_prefix), settings.secret_key)
    email = new_user(session_factory, "coordinator")
    with ExitStack() as stack:
        first, second = clients(stack, two_apps, STRANGER)
        statuses = [login(c, email, "wrong password!") for c in (first, second) * 5]
        assert statuses == [422] * (MAX_FAILURES - 1) + [429]
    keys = redis_store(redis_prefix).client.keys(redis_prefix + "*")
    assert len(keys) >= 3  # pair, account and source counters (and the account's group)
