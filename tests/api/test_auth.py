"""Signing in and out, sessions, second factor, lockout and API tokens, through HTTP (scenarios 39, 40)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.settings import Environment, Settings
from surveys.accounts import totp
from surveys.accounts.models import StaffSession, User
from surveys.accounts.sessions import token_digest
from surveys.accounts.signin import MAX_FAILURES
from surveys.audit.models import AuditEvent
from surveys.db import utcnow
from surveys.policy import Permission
from tests.accounts_fixtures import STAFF_PASSWORD, issue_token, make_user, sign_in

SESSION = "accessgap_session"


def csrf_of(page_html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def login(client: TestClient, email: str, password: str = STAFF_PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    form = client.get("/login")
    data = {"email": email, "password": password, "csrf_token": csrf_of(form.text), **extra}
    return client.post("/login", data=data, follow_redirects=False)


def new_user(session_factory: sessionmaker[Session], **fields: object) -> User:
    with session_factory() as session, session.begin():
        return make_user(session, **fields)  # type: ignore[arg-type]


def events(session_factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


class TestLogin:
    def test_success_sets_a_server_side_session_cookie(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        user = new_user(session_factory, role="coordinator")
        response = login(client, user.email, next="/centres")
        assert response.status_code == 303
        assert response.headers["location"] == "/centres"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION}=")
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # served over http in the tests; Secure + __Host- over https
        raw = client.cookies[SESSION]
        assert len(raw) >= 43  # 256 bits, base64url
        with session_factory() as session:
            stored = session.scalar(select(StaffSession.token_hash))
        assert stored == token_digest(raw)
        assert raw not in stored
        assert client.get("/centres").status_code == 200
        [event] = events(session_factory, "login.success")
        assert event.actor == f"user:{user.id}"
        assert user.email not in str(event.details)

    def test_admin_cookie_is_samesite_strict(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        admin = new_user(session_factory, role="admin")
        response = login(client, admin.email)
        assert "SameSite=Strict" in response.headers["set-cookie"]

    def test_a_new_session_id_at_login(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        user = new_user(session_factory, role="researcher")
        planted = "attacker-chosen-session-id-" + "x" * 20
        client.cookies.set(SESSION, planted, domain="testserver.local")
        login(client, user.email)
        assert client.cookies[SESSION] != planted

    def test_wrong_password_and_missing_account_answer_the_same(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        user = new_user(session_factory, role="coordinator")
        wrong = login(client, user.email, "not the right password")
        missing = login(client, "nobody@example.org", "not the right password")
        assert wrong.status_code == missing.status_code == 422
        for response in (wrong, missing):
            assert "Invalid e-mail or password." in response.text
            assert SESSION not in response.headers.get("set-cookie", "")
        assert wrong.text.replace(user.email, "X") == missing.text.replace(
            "nobody@example.org", "X"
        ).replace(csrf_of(missing.text), csrf_of(wrong.text))
        failures = events(session_factory, "login.failure")
        assert len(failures) == 2
        assert all("@" not in str(e.details) for e in failures)

    def test_ten_failures_lock_existing_and_missing_accounts_alike(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        user = new_user(session_factory, role="coordinator")
        for email in (user.email, "ghost@example.org"):
            statuses = [
                login(client, email, "wrong password!").status_code for _ in range(MAX_FAILURES)
            ]
            assert statuses == [422] * (MAX_FAILURES - 1) + [429]
            locked = login(client, email)  # even the right password is refused now
            assert locked.status_code == 429
            assert 895 <= int(locked.headers["retry-after"]) <= 900
            assert "Invalid e-mail or password." in locked.text
        assert len(events(session_factory, "login.lockout")) == 2
        assert len(events(session_factory, "login.locked")) == 2

    def test_deactivated_account_cannot_sign_in(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        user = new_user(session_factory, role="coordinator", active=False)
        assert login(client, user.email).status_code == 422

    def test_next_never_leaves_the_site(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        user = new_user(session_factory, role="coordinator")
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            client.cookies.clear()
            response = login(client, user.email, next=target)
            assert response.headers["location"] == "/", target

    def test_login_form_needs_its_csrf_token(self, client: TestClient) -> None:
        client.get("/login")
        response = client.post("/login", data={"email": "a@b.eu", "password": "x" * 12})
        assert response.status_code == 403


class TestSession:
    def test_logout_deletes_the_session_so_the_cookie_replays_to_nothing(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        signed = sign_in(client, session_factory, role="coordinator")
        assert client.get("/centres").status_code == 200
        response = client.post("/logout", data={"csrf_token": signed.csrf}, follow_redirects=False)
        assert response.status_code == 303
        assert "Max-Age=0" in response.headers["set-cookie"]
        replay = TestClient(client.app, cookies={SESSION: signed.cookie})  # type: ignore[arg-type]
        page = replay.get("/centres", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=")
        assert replay.get("/api/v1/me").status_code == 401
        assert len(events(session_factory, "logout")) == 1

    @pytest.mark.parametrize(
        ("created_ago", "seen_ago", "alive"),
        [
            (dt.timedelta(minutes=40), dt.timedelta(minutes=29), True),
            (dt.timedelta(minutes=40), dt.timedelta(minutes=31), False),  # idle 30 min
            (dt.timedelta(hours=13), dt.timedelta(minutes=1), False),  # absolute 12 h
        ],
    )
    def test_idle_and_absolute_timeouts(
        self,
        client: TestClient,
        session_factory: sessionmaker[Session],
        created_ago: dt.timedelta,
        seen_ago: dt.timedelta,
        alive: bool,
    ) -> None:
        signed = sign_in(client, session_factory, role="coordinator")
        now = utcnow()
        with session_factory() as session, session.begin():
            row = session.scalar(select(StaffSession).where(StaffSession.user_id == signed.user_id))
            assert row is not None
            row.created_at = now - created_ago
            row.expires_at = row.created_at + dt.timedelta(hours=12)
            row.last_seen_at = now - seen_ago
        assert client.get("/api/v1/me").status_code == (200 if alive else 401)

    def test_role_change_ends_the_sessions_of_that_user(
        self, client: TestClient, session_factory: sessionmaker[Session], client_as
    ) -> None:  # type: ignore[no-untyped-def]
        admin, _ = client_as("admin")
        sign_in(client, session_factory, role="coordinator")
        me = client.get("/api/v1/me").json()
        form = admin.get(f"/admin/users/{me['user_id']}")
        changed = admin.post(
            f"/admin/users/{me['user_id']}/role",
            data={"role": "researcher", "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
        assert changed.status_code == 303
        assert client.get("/api/v1/me").status_code == 401

    def test_password_change_ends_the_other_sessions(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        user = new_user(session_factory, role="researcher")
        other = TestClient(client.app)  # type: ignore[arg-type]
        signed = sign_in(client, session_factory, user=user)
        sign_in(other, session_factory, user=user)
        response = client.post(
            "/account/password",
            data={
                "current_password": STAFF_PASSWORD,
                "new_password": "a completely new pass phrase",
                "csrf_token": signed.csrf,
            },
        )
        assert response.status_code == 200, response.text
        assert "Your password was changed." in response.text
        assert client.cookies[SESSION] != signed.cookie  # this one got a new id
        assert client.get("/api/v1/me").status_code == 200
        assert other.get("/api/v1/me").status_code == 401

    def test_weak_new_password_is_refused_with_the_reason(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        signed = sign_in(client, session_factory, role="researcher")
        response = client.post(
            "/account/password",
            data={
                "current_password": STAFF_PASSWORD,
                "new_password": "accessgap2026!",
                "csrf_token": signed.csrf,
            },
        )
        assert response.status_code == 422
        assert "too close to the name of this service" in response.text


class TestSecondFactor:
    def test_an_account_with_totp_needs_the_code(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        secret = totp.new_secret()
        user = new_user(session_factory, role="coordinator", totp_secret=secret)
        response = login(client, user.email, next="/account")
        assert response.headers["location"] == "/login/totp?next=%2Faccount"
        assert client.get("/api/v1/me").status_code == 401  # half-way: not signed in yet
        page = client.get("/login/totp?next=%2Faccount")
        wrong = client.post(
            "/login/totp", data={"code": "000000", "csrf_token": csrf_of(page.text)}
        )
        assert wrong.status_code == 422
        code = totp.current_code(secret, at=utcnow())
        done = client.post(
            "/login/totp",
            data={"code": code, "next": "/account", "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/account"
        assert client.get("/api/v1/me").status_code == 200
        # The same code cannot be used again (replay within its 30 s window).
        client.cookies.clear()
        login(client, user.email)
        again = client.get("/login/totp")
        replayed = client.post(
            "/login/totp", data={"code": code, "csrf_token": csrf_of(again.text)}
        )
        assert replayed.status_code == 422

    def test_production_makes_admins_set_up_totp_before_anything_else(
        self, settings: Settings, session_factory: sessionmaker[Session]
    ) -> None:
        production = settings.model_copy(
            update={"environment": Environment.PRODUCTION, "base_url": "https://accessgap.example"}
        )
        app = create_app(production)
        app.state.session_factory = session_factory
        admin = new_user(session_factory, role="admin")
        with TestClient(app, base_url="https://testserver") as client:
            form = client.get("/login")
            assert "__Host-accessgap_csrf" in form.headers["set-cookie"]
            response = client.post(
                "/login",
                data={
                    "email": admin.email,
                    "password": STAFF_PASSWORD,
                    "csrf_token": csrf_of(form.text),
                },
                follow_redirects=False,
            )
            cookie = response.headers["set-cookie"]
            assert cookie.startswith("__Host-accessgap_session=")
            assert "Secure" in cookie
            assert "SameSite=Strict" in cookie
            assert response.headers["location"].startswith("/login/totp")
            assert client.get("/admin", follow_redirects=False).status_code == 303
            page = client.get("/login/totp")
            secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text)
            assert secret
            code = totp.current_code(secret.group(1), at=utcnow())
            done = client.post(
                "/login/totp",
                data={"code": code, "csrf_token": csrf_of(page.text)},
                follow_redirects=False,
            )
            assert done.status_code == 303
            assert client.get("/admin").status_code == 200
            assert client.get("/").headers["strict-transport-security"].startswith("max-age=")


class TestApiTokens:
    def test_a_token_acts_as_its_user_within_its_scopes(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        user = new_user(session_factory, role="coordinator")
        raw = issue_token(session_factory, user.id, [Permission.REGISTRY_READ])
        headers = {"Authorization": f"Bearer {raw}"}
        me = client.get("/api/v1/me", headers=headers).json()
        assert me["via"] == "token"
        assert me["permissions"] == ["registry:read"]
        assert client.get("/api/v1/centres", headers=headers).status_code == 200
        write = client.post("/api/v1/centres", json={"name": "X", "country": "FR"}, headers=headers)
        assert write.status_code == 403  # not in the token's scopes, although the role has it
        assert client.get("/api/v1/tokens", headers=headers).status_code == 403  # no token minting

    def test_revoked_expired_and_unknown_tokens_are_401(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        user = new_user(session_factory, role="researcher")
        revoked = issue_token(session_factory, user.id, [Permission.EXPORT_PSEUDONYMISED])
        expired = issue_token(session_factory, user.id, [Permission.EXPORT_PSEUDONYMISED])
        signed = sign_in(client, session_factory, user=user)
        listed = client.get("/api/v1/tokens").json()
        assert len(listed) == 2
        assert "token" not in listed[0]
        token_id = listed[0]["id"]
        assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 200
        from surveys.accounts.models import ApiToken

        with session_factory() as session, session.begin():
            for token in session.scalars(select(ApiToken)):
                if token.id != token_id:
                    token.expires_at = utcnow() - dt.timedelta(seconds=1)
        client.cookies.clear()
        for raw in (revoked, expired, "agt_" + "A" * 43, "not-a-token"):
            response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["code"] == "not_authenticated"
        assert signed.csrf

    def test_issuing_a_token_shows_it_once_and_stores_only_its_hash(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, session_factory, role="researcher")
        response = client.post(
            "/api/v1/tokens",
            json={"name": "nightly", "scopes": ["export:pseudonymised"], "days": 90},
        )
        assert response.status_code == 201, response.text
        raw = response.json()["token"]
        assert raw.startswith("agt_")
        assert response.headers["cache-control"] == "no-store"
        from surveys.accounts.models import ApiToken

        with session_factory() as session:
            stored = session.scalar(select(ApiToken))
            assert stored is not None
            assert stored.token_hash == token_digest(raw)
            assert stored.expires_at - stored.created_at == dt.timedelta(days=90)
        too_long = client.post(
            "/api/v1/tokens", json={"name": "x", "scopes": ["export:pseudonymised"], "days": 91}
        )
        assert too_long.status_code == 422
        not_allowed = client.post(
            "/api/v1/tokens", json={"name": "x", "scopes": ["registry:write"]}
        )
        assert not_allowed.status_code == 422
        assert not_allowed.json()["code"] == "scope_not_allowed"
        [event] = events(session_factory, "token.issue")
        assert raw not in str(event.details)

    def test_another_users_token_is_not_found_like_a_missing_one(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        owner = new_user(session_factory, role="researcher")
        issue_token(session_factory, owner.id, [Permission.EXPORT_PSEUDONYMISED])
        with session_factory() as session:
            from surveys.accounts.models import ApiToken

            foreign_id = session.scalar(select(ApiToken.id))
        sign_in(client, session_factory, role="researcher")
        foreign = client.delete(f"/api/v1/tokens/{foreign_id}")
        missing = client.delete("/api/v1/tokens/2147483647")
        assert foreign.status_code == missing.status_code == 404
        strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
        assert strip(foreign.json()) == strip(missing.json())
