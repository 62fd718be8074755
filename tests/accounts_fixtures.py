"""Fixtures and builders for signed-in tests: users of every role, sessions, API tokens.

Registered in ``tests/conftest.py`` (``pytest_plugins``). A signed-in client is made without
going through the login form (the argon2 hash is computed once per run), so a test that is not
about signing in pays nothing for it::

    def test_something(client, session_factory):
        signed_in = sign_in(client, session_factory, role="coordinator")
        client.post("/api/v1/centres", json=...)  # cookie and X-CSRF-Token already set
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import AccessRule, rules_of
from surveys.accounts import sessions, tokens
from surveys.accounts.models import User
from surveys.accounts.passwords import hash_password
from surveys.accounts.schemas import TokenCreate
from surveys.campaigns.models import Campaign, CampaignGrant
from surveys.db import utcnow
from surveys.policy import Actor, Permission, staff_actor

STAFF_PASSWORD = "violet harbour lantern 93"
ROLES = ("admin", "coordinator", "domain_lead", "researcher")
SESSION_COOKIE = "accessgap_session"
_numbers = itertools.count(1)


@cache
def staff_password_hash() -> str:
    """The argon2id hash of :data:`STAFF_PASSWORD`, computed once per test run."""
    return hash_password(STAFF_PASSWORD)


def make_user(
    session: Session,
    *,
    role: str = "coordinator",
    email: str | None = None,
    display_name: str | None = None,
    domains: list[str] | None = None,
    countries: list[str] | None = None,
    totp_secret: str | None = None,
    active: bool = True,
) -> User:
    """A user with :data:`STAFF_PASSWORD` (a domain lead gets the radiomics domain by default)."""
    number = next(_numbers)
    if domains is None:
        domains = ["radiomics"] if role == "domain_lead" else []
    user = User(
        email=email or f"{role}.{number}@example.org",
        display_name=display_name or f"{role.replace('_', ' ').title()} {number}",
        password_hash=staff_password_hash(),
        role=role,
        domains=domains,
        countries=countries or [],
        totp_secret=totp_secret,
        active=active,
        failed_logins=0,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def grant_every_campaign(session: Session, user_id: int) -> None:
    """Grant a researcher every campaign there is (researchers read only granted campaigns)."""
    for campaign_id in session.scalars(select(Campaign.id)):
        session.add(
            CampaignGrant(
                user_id=user_id, campaign_id=campaign_id, granted_at=utcnow(), granted_by="test"
            )
        )
    session.flush()


def granted_researcher(session: Session) -> Actor:
    """The actor of a new researcher granted every campaign there is."""
    user = make_user(session, role="researcher")
    grant_every_campaign(session, user.id)
    return staff_actor(user_id=user.id, role="researcher")


@dataclass
class SignedIn:
    """A user and the session the client now carries."""

    user_id: int
    role: str
    email: str
    csrf: str
    cookie: str


def sign_in(
    client: TestClient,
    session_factory: sessionmaker[Session],
    *,
    role: str = "coordinator",
    user: User | None = None,
    **user_fields: object,
) -> SignedIn:
    """Give the client a live session of a (new) user, and its CSRF token as default header."""
    with session_factory() as session, session.begin():
        user = (
            make_user(session, role=role, **user_fields)  # type: ignore[arg-type]
            if user is None
            else session.merge(user)
        )
        raw, row = sessions.start_session(session, user, absolute=dt.timedelta(hours=12))
        signed = SignedIn(user.id, user.role, user.email, row.csrf_token, raw)
    client.cookies.set(SESSION_COOKIE, raw, domain="testserver.local")
    client.headers["X-CSRF-Token"] = signed.csrf
    return signed


def issue_token(
    session_factory: sessionmaker[Session],
    user_id: int,
    scopes: list[Permission],
    *,
    days: int = 30,
) -> str:
    """A raw API token for the user."""
    with session_factory() as session, session.begin():
        user = session.get(User, user_id)
        assert user is not None
        issued = tokens.issue_token(
            session, user, TokenCreate(name="test", scopes=scopes, days=days)
        )
        return issued.token


@pytest.fixture
def client_as(
    client: TestClient, session_factory: sessionmaker[Session]
) -> Iterator[Callable[..., tuple[TestClient, SignedIn]]]:
    """A factory of extra clients on the same app, each signed in as a new user of a role."""
    app: FastAPI = client.app  # type: ignore[assignment]
    made: list[TestClient] = []

    def make(role: str, **user_fields: object) -> tuple[TestClient, SignedIn]:
        other = TestClient(app, raise_server_exceptions=False)
        made.append(other)
        return other, sign_in(other, session_factory, role=role, **user_fields)

    yield make
    for other in made:
        other.close()


# --- the route table, as the route-matrix and CSRF tests see it -------------------------------


@dataclass(frozen=True)
class RouteCase:
    """One method of one route, with the access rule it declares (None: undeclared)."""

    method: str
    path: str
    rule: AccessRule | None
    api: bool

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)(?::\w+)?}", self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def route_cases(app: FastAPI) -> tuple[list[RouteCase], list[str]]:
    """Every (method, path) of the app with its rule; and the paths of mounts and plain routes."""
    cases: list[RouteCase] = []
    others: list[str] = []
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context, "dependant", None)
        path = context.path or ""
        if dependant is None:
            others.append(path)
            continue
        rules = rules_of(dependant)
        for method in sorted(context.methods or ()):
            if method == "HEAD":
                continue
            cases.append(
                RouteCase(method, path, rules[0] if rules else None, path.startswith("/api/"))
            )
    return cases, others
