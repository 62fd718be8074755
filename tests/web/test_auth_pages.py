"""The account and administration pages: forms, re-rendering on 422, audit, uploads, fuzzing."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from surveys.accounts.models import ApiToken, User
from surveys.audit.models import AuditEvent
from surveys.registry.models import Centre, Contact
from tests.accounts_fixtures import SignedIn, make_user, sign_in
from tests.builders import make_centre


@pytest.fixture
def admin(client: TestClient, session_factory: sessionmaker[Session]) -> SignedIn:
    return sign_in(client, session_factory, role="admin")


def actions(session_factory: sessionmaker[Session]) -> list[str]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


class TestUsers:
    def test_create_then_change_role_then_deactivate(
        self, client: TestClient, admin: SignedIn, session_factory: sessionmaker[Session]
    ) -> None:
        page = client.get("/admin/users")
        assert page.status_code == 200
        assert '<label for="email">E-mail address</label>' in page.text
        created = client.post(
            "/admin/users",
            data={
                "csrf_token": admin.csrf,
                "email": "Lead@Example.org",
                "display_name": "Dana Lead",
                "password": "a long and uncommon phrase",
                "role": "domain_lead",
                "domains": ["radiomics", "surgery"],
                "countries": "fr, de",
            },
            follow_redirects=False,
        )
        assert created.status_code == 303, created.text
        user_url = created.headers["location"]
        with session_factory() as session:
            user = session.scalar(select(User).where(User.email == "lead@example.org"))
            assert user is not None
            assert (user.domains, user.countries) == (["radiomics", "surgery"], ["DE", "FR"])
        changed = client.post(
            f"{user_url}/role",
            data={"csrf_token": admin.csrf, "role": "researcher"},
            follow_redirects=False,
        )
        assert changed.status_code == 303
        client.post(f"{user_url}/active", data={"csrf_token": admin.csrf, "active": "no"})
        detail = client.get(user_url)
        assert "deactivated" in detail.text
        assert actions(session_factory)[-3:] == [
            "user.create",
            "user.role_change",
            "user.deactivate",
        ]
        with session_factory() as session:
            events = session.scalars(select(AuditEvent)).all()
            assert all("lead@example.org" not in str(e.details) for e in events)

    def test_invalid_input_is_shown_next_to_the_fields_with_the_input_kept(
        self, client: TestClient, admin: SignedIn
    ) -> None:
        response = client.post(
            "/admin/users",
            data={
                "csrf_token": admin.csrf,
                "email": "not-an-address",
                "display_name": "Kept <Name>",
                "password": "short",
                "role": "domain_lead",
            },
        )
        assert response.status_code == 422
        assert 'role="alert"' in response.text
        assert 'value="not-an-address"' in response.text
        assert 'value="Kept &lt;Name&gt;"' in response.text
        assert "enter an e-mail address" in response.text
        assert 'aria-invalid="true"' in response.text

    def test_the_last_admin_cannot_demote_themselves(
        self, client: TestClient, admin: SignedIn, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            # make this admin the last one (inside the test's transaction, rolled back after)
            for other in session.scalars(
                select(User).where(User.role == "admin", User.id != admin.user_id)
            ):
                other.role = "coordinator"
        response = client.post(
            f"/admin/users/{admin.user_id}/role",
            data={"csrf_token": admin.csrf, "role": "researcher"},
        )
        assert response.status_code == 422
        assert "last active administrator" in response.text

    def test_missing_and_out_of_range_users_are_404_or_422(
        self, client: TestClient, admin: SignedIn
    ) -> None:
        assert client.get("/admin/users/2147483647").status_code == 404
        assert client.get("/admin/users/99999999999999999999").status_code == 422
        assert client.get("/admin/users/-1").status_code == 422
        assert client.get("/admin/users/abc").status_code == 422


class TestTokens:
    def test_issue_shows_the_token_once_then_revoke(
        self, client: TestClient, admin: SignedIn, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            researcher = make_user(session, role="researcher")
        issued = client.post(
            "/admin/tokens",
            data={
                "csrf_token": admin.csrf,
                "user_id": str(researcher.id),
                "name": "nightly export",
                "scopes": ["export:pseudonymised"],
                "days": "30",
            },
        )
        assert issued.status_code == 201, issued.text
        assert issued.headers["cache-control"] == "no-store"
        token = re.search(r'data-testid="issued-token">(agt_[\w-]+)<', issued.text)
        assert token
        listing = client.get("/admin/tokens")
        assert token.group(1) not in listing.text
        assert "nightly export" in listing.text
        with session_factory() as session:
            token_id = session.scalar(select(ApiToken.id))
        revoked = client.post(
            f"/admin/tokens/{token_id}/revoke",
            data={"csrf_token": admin.csrf},
            follow_redirects=False,
        )
        assert revoked.status_code == 303
        assert actions(session_factory)[-2:] == ["token.issue", "token.revoke"]

    def test_a_scope_the_role_lacks_is_refused_and_the_form_kept(
        self, client: TestClient, admin: SignedIn, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            researcher = make_user(session, role="researcher")
        response = client.post(
            "/admin/tokens",
            data={
                "csrf_token": admin.csrf,
                "user_id": str(researcher.id),
                "name": "too much",
                "scopes": ["registry:write"],
                "days": "200",
            },
        )
        assert response.status_code == 422
        assert 'value="too much"' in response.text

    def test_a_researcher_manages_their_own_tokens_on_the_account_page(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        signed = sign_in(client, session_factory, role="researcher")
        page = client.get("/account")
        assert "Your API tokens" in page.text
        assert "registry:write" not in page.text  # only scopes the role can hold are offered
        issued = client.post(
            "/account/tokens",
            data={"csrf_token": signed.csrf, "name": "mine", "scopes": ["export:pseudonymised"]},
        )
        assert issued.status_code == 201
        assert client.get("/admin/tokens").status_code == 403


class TestAuditLog:
    def test_filter_by_action_and_dates_and_bad_dates_explained(
        self, client: TestClient, admin: SignedIn
    ) -> None:
        client.post("/logout", data={"csrf_token": admin.csrf})
        client.cookies.clear()
        sign_in(client, client_session_factory(client), role="admin")
        page = client.get("/admin/audit", params={"action": "logout"})
        assert page.status_code == 200
        assert re.search(r'data-testid="audit-count">1 event<', page.text)
        bad = client.get("/admin/audit", params={"since": "yesterday"})
        assert bad.status_code == 422
        assert "not a date" in bad.text
        assert client.get("/admin/audit", params={"page": 0}).status_code == 422


def client_session_factory(client: TestClient) -> sessionmaker[Session]:
    return client.app.state.session_factory  # type: ignore[attr-defined, no-any-return]


class TestCentreImport:
    def upload(
        self, client: TestClient, admin: SignedIn, name: str, content: bytes, dry: bool = False
    ):  # type: ignore[no-untyped-def]
        data = {"csrf_token": admin.csrf}
        if dry:
            data["dry_run"] = "yes"
        return client.post(
            "/admin/centres/import",
            data=data,
            files={"file": (name, io.BytesIO(content), "text/csv")},
        )

    @pytest.mark.parametrize(
        "name",
        ["../../etc/passwd.csv", "..\\..\\evil.csv", "/abs/path.csv", "sub/dir.csv", ".."],
    )
    def test_path_components_in_the_file_name_are_refused(
        self, client: TestClient, admin: SignedIn, settings: Settings, name: str
    ) -> None:
        response = self.upload(client, admin, name, b"name,country\nX,FR\n")
        assert response.status_code == 422
        assert "must not contain folders" in response.text or "Upload a .csv" in response.text
        assert not (settings.upload_dir.exists() and any(settings.upload_dir.iterdir()))

    def test_values_of_the_file_are_escaped_in_the_report(
        self, client: TestClient, admin: SignedIn, settings: Settings
    ) -> None:
        payload = b'name,country,centre_type\n"<script>alert(1)</script>",FR,"<img src=x onerror=alert(2)>"\n'
        response = self.upload(client, admin, "centres.csv", payload)
        assert response.status_code == 422
        assert "<img src=x" not in response.text
        assert "&lt;img src=x onerror=alert(2)&gt;" in response.text
        assert list(settings.upload_dir.iterdir()) == []  # the upload was deleted

    def test_a_good_file_is_imported_and_audited(
        self,
        client: TestClient,
        admin: SignedIn,
        session_factory: sessionmaker[Session],
        tmp_path: Path,
    ) -> None:
        content = "name,country,city\nHôpital 🩺 Test,FR,Lyon\n".encode()
        dry = self.upload(client, admin, "centres.csv", content, dry=True)
        assert dry.status_code == 200
        assert "1 centre(s) would be created" in dry.text
        done = self.upload(client, admin, "centres.csv", content)
        assert "1 centre(s) were created" in done.text
        with session_factory() as session:
            assert (
                session.scalar(select(Centre.name).where(Centre.city == "Lyon"))
                == "Hôpital 🩺 Test"
            )
        assert actions(session_factory)[-2:] == ["centre.import", "geo.place_centres"]
        assert not list(tmp_path.rglob("centres.csv"))


class TestPrivacy:
    def test_erase_a_contact_and_export_an_access_request(
        self, client: TestClient, admin: SignedIn, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            centre = make_centre(session, name="GDPR centre", country="DK")
            contact = Contact(centre_id=centre.id, name="Mette Hansen", email="mette@example.dk")
            session.add(contact)
            session.flush()
            contact_id = contact.id
        exported = client.post(
            "/admin/privacy/access", data={"csrf_token": admin.csrf, "email": "Mette@example.dk"}
        )
        assert exported.status_code == 200
        assert exported.headers["content-disposition"].startswith("attachment")
        document = json.loads(exported.text)
        assert document["tables"]["contact"][0]["name"] == "Mette Hansen"
        erased = client.post(
            "/admin/privacy/erase", data={"csrf_token": admin.csrf, "contact_id": str(contact_id)}
        )
        assert erased.status_code == 200
        assert f"Contact {contact_id} was erased." in erased.text
        with session_factory() as session:
            stored = session.get(Contact, contact_id)
            assert stored is not None
            assert (stored.name, stored.email) == ("", None)
            events = session.scalars(
                select(AuditEvent).where(AuditEvent.object_type.in_(["contact", "data_subject"]))
            ).all()
        assert [e.action for e in events] == ["privacy.access_export", "contact.erase"]
        for event in events:
            assert "Mette" not in str(event.details)
            assert "mette@" not in str(event.details)
        missing = client.post(
            "/admin/privacy/erase", data={"csrf_token": admin.csrf, "contact_id": "999999"}
        )
        assert missing.status_code == 422

    def test_a_coordinator_may_not(
        self, client: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, session_factory, role="coordinator")
        assert client.get("/admin/privacy").status_code == 403


# --- fuzzing the form routes (scenario 31) ---------------------------------------------------

FORM_ROUTES = {
    "/admin/users": ("email", "display_name", "password", "role", "domains", "countries"),
    "/admin/tokens": ("user_id", "name", "scopes", "days"),
    "/admin/privacy/erase": ("contact_id",),
    "/admin/privacy/access": ("email",),
    "/account/password": ("current_password", "new_password"),
    "/account/tokens": ("name", "scopes", "days"),
    "/login": ("email", "password", "next"),
}
texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20).map(lambda s: s + "\x00"),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.just("x" * 100_000),
    st.sampled_from(["admin", "domain_lead", "radiomics", "registry:read", "<script>", "{{7*7}}"]),
)


@settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(sorted(FORM_ROUTES)),
    values=st.dictionaries(
        st.sampled_from(["a", "b", "c", "d", "e", "f"]), st.lists(texts, max_size=3)
    ),
)
def test_form_routes_never_fail_on_odd_input(
    client: TestClient, admin: SignedIn, route: str, values: dict[str, list[str]]
) -> None:
    fields = FORM_ROUTES[route]
    data: list[tuple[str, str]] = [("csrf_token", admin.csrf)]
    for key, items in values.items():
        name = fields[ord(key) % len(fields)]
        data.extend((name, item) for item in items)  # missing, single and duplicated fields
    body = "&".join(
        f"{n}={v}"
        for n, v in (
            (n, __import__("urllib.parse").parse.quote(v.encode("utf-8", "surrogatepass"), safe=""))
            for n, v in data
        )
    )
    response = client.post(
        route,
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code < 500, response.text[:500]
    assert "Traceback" not in response.text
    if response.status_code == 303 and route == "/login":
        client.cookies.clear()
        sign_in(client, client_session_factory(client), role="admin")
