"""CSRF on every state-changing route (RELIABILITY.md scenario 38), enumerated from ``app.routes``.

A request that comes with a session cookie (or, for public forms, the CSRF cookie) must carry
the synchronizer token of that session in the ``csrf_token`` field or the ``X-CSRF-Token``
header. Missing, wrong, or another session's token: 403. Bearer-token calls need none (a token
is not sent by the browser on its own, so it cannot be ridden cross-site).
"""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.auth import SAFE_METHODS
from surveys.accounts import sessions
from surveys.accounts.models import User
from surveys.policy import Permission
from tests.accounts_fixtures import SESSION_COOKIE, issue_token, make_user, route_cases

PLACEHOLDER = "1"


def admin_session(session_factory: sessionmaker[Session], user_id: int) -> tuple[str, str]:
    with session_factory() as session, session.begin():
        user = session.get(User, user_id)
        assert user is not None
        raw, row = sessions.start_session(session, user, absolute=dt.timedelta(hours=1))
        return raw, row.csrf_token


def test_every_state_changing_route_refuses_a_missing_wrong_or_foreign_token(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    with session_factory() as session, session.begin():
        admin_id = make_user(session, role="admin").id
    cases, _ = route_cases(app)
    unsafe = [c for c in cases if c.method not in SAFE_METHODS and c.rule is not None]
    assert len(unsafe) >= 10
    failures: list[str] = []
    for case in unsafe:
        url = case.path
        for name in case.params:
            url = url.replace("{" + name + "}", PLACEHOLDER)
        _, other_csrf = admin_session(session_factory, admin_id)
        for label, token in (("missing", None), ("wrong", "x" * 43), ("foreign", other_csrf)):
            with TestClient(app, raise_server_exceptions=False) as browser:
                if case.rule.public:
                    browser.get("/login")  # receives the CSRF cookie, as a visitor would
                else:
                    raw, _ = admin_session(session_factory, admin_id)
                    browser.cookies.set(SESSION_COOKIE, raw, domain="testserver.local")
                data = {"csrf_token": token} if token else {}
                response = browser.request(case.method, url, data=data, follow_redirects=False)
                if response.status_code != 403:
                    failures.append(f"{case} with a {label} token: {response.status_code}")
                elif case.api and response.json()["code"] != "csrf_failed":
                    failures.append(f"{case} with a {label} token: {response.json()['code']}")
    assert not failures, "\n".join(failures)


def test_the_header_works_for_fetch_and_a_bearer_token_needs_no_csrf(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        coordinator = make_user(session, role="coordinator").id
    raw, csrf = admin_session(session_factory, coordinator)
    client.cookies.set(SESSION_COOKIE, raw, domain="testserver.local")
    body = {"name": "Centre Léon Bérard", "country": "FR"}
    assert client.post("/api/v1/centres", json=body).status_code == 403
    assert (
        client.post("/api/v1/centres", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    )
    client.cookies.clear()
    token = issue_token(session_factory, coordinator, [Permission.REGISTRY_WRITE])
    created = client.post(
        "/api/v1/centres", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201


def test_the_csrf_cookie_of_visitors_is_strict_and_http_only(client: TestClient) -> None:
    cookie = client.get("/login").headers["set-cookie"]
    assert cookie.startswith("accessgap_csrf=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
