"""Campaign and invitation routes: set-up, open/close/reopen, completion, links, reminders,
per role, each state change audited (never with a token)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from surveys.audit.models import AuditEvent
from surveys.campaigns.choices import choose_versions
from surveys.registry.models import Centre
from surveys.responses.review import withdraw
from surveys.responses.submission import start_draft, submit
from tests.accounts_fixtures import SignedIn, sign_in
from tests.builders import make_campaign, make_centre, make_published_form

PROBLEM = "application/problem+json"
RADIO_FORM = """
| survey |
|        | type              | name          | label::en           | label::fr           | required |
|        | select_one yes_no | has_radiomics | Radiomics pipeline? | Chaîne radiomique ? | yes      |
|        | integer           | studies       | Studies per year    | Études par an       |          |
| choices |
|         | list_name | name | label::en | label::fr |
|         | yes_no    | yes  | Yes       | Oui       |
|         | yes_no    | no   | No        | Non       |
| settings |
|          | form_id     | version | title::en | title::fr  | domain    |
|          | radio_small | 1       | Radiomics | Radiomique | radiomics |
"""
ClientAs = Callable[..., tuple[TestClient, SignedIn]]


@dataclass
class World:
    """Five centres asked two questionnaires (PET: nuclear medicine; radiomics), and:

    FR1 submitted both; FR2 has a PET draft; FR3 did nothing; DE1 submitted radiomics;
    DE2 has a radiomics draft and a withdrawn PET response.
    """

    slug: str = "wave-1"
    centres: dict[str, str] = field(default_factory=dict)


def build_world(session_factory: sessionmaker[Session]) -> World:
    world = World()
    now = dt.datetime.now(dt.UTC)
    with session_factory() as session, session.begin():
        pet = make_published_form(session)
        radio = make_published_form(session, RADIO_FORM)
        centres = {
            key: make_centre(session, name=f"Centre {key}", country=key[:2])
            for key in ("FR1", "FR2", "FR3", "DE1", "DE2")
        }
        world.centres = {key: c.public_id for key, c in centres.items()}
        campaign = make_campaign(
            session, slug=world.slug, centres=list(centres.values()), versions=[pet, radio]
        )

        def send(key: str, version: object, answers: dict[str, object]) -> None:
            submit(
                session,
                submission_uuid=str(uuid.uuid4()),
                campaign=campaign,
                centre=centres[key],
                version=version,  # type: ignore[arg-type]
                answers=answers,
                now=now,
                actor="test",
            )

        send("FR1", pet, {"has_pet": "yes", "units": 2})
        send("FR1", radio, {"has_radiomics": "yes", "studies": 4})
        start_draft(session, campaign, centres["FR2"], pet, now=now)
        send("DE1", radio, {"has_radiomics": "no"})
        start_draft(session, campaign, centres["DE2"], radio, now=now)
        send("DE2", pet, {"has_pet": "no"})
        from surveys.responses.models import Response

        withdrawn = session.scalars(
            select(Response).where(
                Response.centre_id == centres["DE2"].id, Response.status == "submitted"
            )
        ).one()
        withdraw(session, withdrawn)
    return world


def audit_events(session_factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def rows(completion: list[dict[str, object]]) -> dict[str, tuple[object, ...]]:
    return {
        str(r["key"]): (r["invited"], r["started"], r["submitted"], r["response_rate"])
        for r in completion
    }


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


@pytest.fixture
def visitor(client: TestClient) -> Iterator[TestClient]:
    """Another browser on the same app: the one a centre opens its link in."""
    other = TestClient(client.app, raise_server_exceptions=False)
    yield other
    other.close()


@pytest.fixture
def coordinator(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    sign_in(client, session_factory, role="coordinator")
    return client


class TestCreate:
    def test_defaults_to_the_latest_published_version_and_all_active_centres(
        self, coordinator: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            make_published_form(session)
            make_centre(session, name="A", country="FR")
            make_centre(session, name="B", country="IT")
            inactive = make_centre(session, name="C", country="IT")
            inactive.active = False
        response = coordinator.post(
            "/api/v1/campaigns",
            json={
                "slug": "wave-2027",
                "name": "Wave 2027",
                "questionnaires": [{"form_id": "pet_small"}],
                "closes_at": "2027-06-30T00:00:00Z",
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == "/api/v1/campaigns/wave-2027"
        assert body["status"] == "draft"
        assert body["centres"] == 2
        assert body["questionnaires"] == [
            {"form_id": "pet_small", "version": "1", "title": "PET", "domain": "nuclear_medicine"}
        ]
        [event] = audit_events(session_factory, "campaign.create")
        assert event.object_id == "wave-2027"
        assert event.details["centres"] == 2

    def test_centres_by_country_or_by_id(
        self, coordinator: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            make_published_form(session)
            fr = make_centre(session, name="A", country="FR").public_id
            make_centre(session, name="B", country="IT")
        base = {"name": "W", "questionnaires": [{"form_id": "pet_small", "version": "1"}]}
        by_country = coordinator.post(
            "/api/v1/campaigns",
            json={**base, "slug": "by-country", "centre_scope": "countries", "countries": ["it"]},
        )
        assert by_country.json()["centres"] == 1
        by_id = coordinator.post(
            "/api/v1/campaigns",
            json={**base, "slug": "by-id", "centre_scope": "ids", "centre_ids": [fr]},
        )
        assert by_id.json()["centres"] == 1

    def test_refusals_name_the_field(
        self, coordinator: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            make_published_form(session)
            make_centre(session)
        body = {"slug": "wave-x", "name": "W", "questionnaires": [{"form_id": "pet_small"}]}
        cases: list[tuple[dict[str, object], list[object]]] = [
            ({"questionnaires": [{"form_id": "nope"}]}, ["questionnaires", 0]),
            ({"centre_scope": "countries", "countries": ["QQ"]}, ["countries"]),
            ({"centre_scope": "ids", "centre_ids": ["missing"]}, ["centre_ids"]),
            ({"slug": "Not A Slug"}, ["body", "slug"]),
            ({"name": "A\u0000B"}, ["body", "name"]),
            ({"opens_at": "2027-01-02T00:00:00Z", "closes_at": "2027-01-01T00:00:00Z"}, ["body"]),
        ]
        for change, loc in cases:
            response = coordinator.post("/api/v1/campaigns", json={**body, **change})
            assert response.status_code == 422, (change, response.text)
            assert response.headers["content-type"] == PROBLEM
            assert response.json()["errors"][0]["loc"][: len(loc)] == loc, change
        assert coordinator.get("/api/v1/campaigns").json() == []

    def test_a_taken_slug_is_a_409(self, coordinator: TestClient, world: World) -> None:
        response = coordinator.post(
            "/api/v1/campaigns",
            json={
                "slug": world.slug,
                "name": "Again",
                "questionnaires": [{"form_id": "pet_small"}],
            },
        )
        assert response.status_code == 409
        assert response.json()["code"] == "campaign_state"


class TestOpenCloseReopen:
    def test_each_change_is_audited(
        self, coordinator: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            make_campaign(
                session,
                slug="wave-2",
                centres=[make_centre(session)],
                versions=[make_published_form(session)],
                open_now=False,
            )
        assert coordinator.post("/api/v1/campaigns/wave-2/open").json()["status"] == "open"
        assert coordinator.post("/api/v1/campaigns/wave-2/close").json()["status"] == "closed"
        reopened = coordinator.post(
            "/api/v1/campaigns/wave-2/reopen", json={"closes_at": "2099-01-01T00:00:00Z"}
        )
        assert reopened.status_code == 200
        assert reopened.json()["status"] == "open"
        assert reopened.json()["closes_at"].startswith("2099-01-01")
        for action in ("campaign.open", "campaign.close", "campaign.reopen"):
            [event] = audit_events(session_factory, action)
            assert event.object_id == "wave-2"

    def test_reopening_after_the_deadline_needs_a_new_one(
        self, coordinator: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            campaign = make_campaign(
                session,
                slug="late",
                centres=[make_centre(session)],
                versions=[make_published_form(session)],
            )
            campaign.closes_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
            campaign.status = "closed"
        refused = coordinator.post("/api/v1/campaigns/late/reopen")
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["closes_at"]
        assert coordinator.post("/api/v1/campaigns/late/open").status_code == 409
        assert coordinator.post("/api/v1/campaigns/late/close").json()["status"] == "closed"


class TestCompletion:
    def test_figures_by_country_and_domain(self, coordinator: TestClient, world: World) -> None:
        body = coordinator.get(f"/api/v1/campaigns/{world.slug}/completion").json()
        # Hand-checked against the World docstring: withdrawn responses count nowhere.
        assert rows([body["total"]]) == {"total": (5, 4, 2, 0.4)}
        assert rows(body["by_country"]) == {"DE": (2, 2, 1, 0.5), "FR": (3, 2, 1, 0.3333)}
        assert rows(body["by_domain"]) == {
            "nuclear_medicine": (5, 2, 1, 0.2),
            "radiomics": (5, 3, 2, 0.4),
        }

    def test_a_domain_lead_sees_the_figures_of_their_domain(
        self, client_as: ClientAs, world: World
    ) -> None:
        lead, _ = client_as("domain_lead", domains=["radiomics"])
        body = lead.get(f"/api/v1/campaigns/{world.slug}/completion").json()
        assert rows([body["total"]]) == {"total": (5, 3, 2, 0.4)}
        assert rows(body["by_country"]) == {"DE": (2, 2, 1, 0.5), "FR": (3, 1, 1, 0.3333)}
        assert list(rows(body["by_domain"])) == ["radiomics"]


class TestInvitations:
    def test_bulk_issue_links_that_work_once_issued_and_never_again(
        self,
        coordinator: TestClient,
        world: World,
        session_factory: sessionmaker[Session],
        visitor: TestClient,
    ) -> None:
        issued = coordinator.post(f"/api/v1/campaigns/{world.slug}/invitations")
        assert issued.status_code == 201, issued.text
        body = issued.json()
        assert len(body["issued"]) == 5
        assert body["smtp_configured"] is False
        link = body["issued"][0]["link"]
        assert link.startswith("http://127.0.0.1:8000/i/")
        token = link.rsplit("/", 1)[1]
        opened = visitor.get(f"/i/{token}", follow_redirects=False)
        assert opened.status_code == 303

        again = coordinator.post(f"/api/v1/campaigns/{world.slug}/invitations").json()
        assert again["issued"] == []
        listed = coordinator.get(f"/api/v1/campaigns/{world.slug}/invitations").json()
        assert len(listed) == 5
        assert {i["state"] for i in listed} == {"live", "used"}
        assert token not in str(listed)

        events = audit_events(session_factory, "invitation.issue")
        assert sorted(e.details["count"] for e in events) == [0, 5]
        assert token not in str([e.details for e in events])

    def test_the_csv_for_a_mail_merge(
        self, coordinator: TestClient, world: World, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            from surveys.registry.models import Contact

            centre = session.scalars(
                select(Centre).where(Centre.public_id == world.centres["FR1"])
            ).one()
            session.add(Contact(centre_id=centre.id, name="Dr A", email="a@centre.example"))
        response = coordinator.post(
            f"/api/v1/campaigns/{world.slug}/invitations", params={"format": "csv"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        assert "attachment" in response.headers["content-disposition"]
        table = list(csv.DictReader(io.StringIO(response.text)))
        assert list(table[0]) == [
            "centre_id",
            "centre_name",
            "country",
            "contact_email",
            "link",
            "expires_at",
        ]
        by_centre = {r["centre_id"]: r for r in table}
        assert by_centre[world.centres["FR1"]]["contact_email"] == "a@centre.example"
        assert by_centre[world.centres["FR1"]]["country"] == "FR"
        assert all("/i/" in r["link"] for r in table)

    def test_sending_without_smtp_issues_nothing(
        self, coordinator: TestClient, world: World
    ) -> None:
        refused = coordinator.post(
            f"/api/v1/campaigns/{world.slug}/invitations", json={"send": True}
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["send"]
        assert coordinator.get(f"/api/v1/campaigns/{world.slug}/invitations").json() == []

    def test_revoke_and_reissue(
        self,
        coordinator: TestClient,
        world: World,
        session_factory: sessionmaker[Session],
        visitor: TestClient,
    ) -> None:
        first = coordinator.post(f"/api/v1/campaigns/{world.slug}/invitations").json()["issued"][0]
        other = visitor
        url = f"/api/v1/campaigns/{world.slug}/invitations/{first['invitation_id']}"
        renewed = coordinator.post(f"{url}/reissue")
        assert renewed.status_code == 201
        new = renewed.json()
        assert new["revoked"] == [first["invitation_id"]]
        new_token = new["issued"][0]["link"].rsplit("/", 1)[1]
        old_token = first["link"].rsplit("/", 1)[1]
        assert other.get(f"/i/{old_token}", follow_redirects=False).status_code == 404
        assert other.get(f"/i/{new_token}", follow_redirects=False).status_code == 303

        new_id = new["issued"][0]["invitation_id"]
        revoked = coordinator.post(f"/api/v1/campaigns/{world.slug}/invitations/{new_id}/revoke")
        assert revoked.json()["state"] == "revoked"
        assert other.get(f"/i/{new_token}", follow_redirects=False).status_code == 404
        for action in ("invitation.reissue", "invitation.revoke"):
            [event] = audit_events(session_factory, action)
            assert new_token not in str(event.details)
            assert old_token not in str(event.details)

    def test_an_invitation_of_another_campaign_is_not_found(
        self, coordinator: TestClient, world: World, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            make_campaign(
                session,
                slug="other",
                centres=[make_centre(session, name="X")],
                versions=choose_versions(session, [("pet_small", None)]),
            )
        issued = coordinator.post("/api/v1/campaigns/other/invitations").json()["issued"][0]
        foreign = coordinator.post(
            f"/api/v1/campaigns/{world.slug}/invitations/{issued['invitation_id']}/revoke"
        )
        missing = coordinator.post(f"/api/v1/campaigns/{world.slug}/invitations/2147483647/revoke")
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json()["code"] == missing.json()["code"] == "invitation_not_found"

    def test_reminders_reissue_links_of_centres_that_have_not_submitted(
        self,
        coordinator: TestClient,
        world: World,
        session_factory: sessionmaker[Session],
        visitor: TestClient,
    ) -> None:
        first = coordinator.post(f"/api/v1/campaigns/{world.slug}/invitations").json()
        reminded = coordinator.post(f"/api/v1/campaigns/{world.slug}/reminders")
        assert reminded.status_code == 201
        body = reminded.json()
        # FR1 submitted both questionnaires; everyone else misses at least one.
        centres = {line["centre_id"] for line in body["issued"]}
        assert centres == {world.centres[k] for k in ("FR2", "FR3", "DE1", "DE2")}
        assert len(body["revoked"]) == 4
        fr1 = next(i for i in first["issued"] if i["centre_id"] == world.centres["FR1"])
        fr1_token = fr1["link"].rsplit("/", 1)[1]
        assert visitor.get(f"/i/{fr1_token}", follow_redirects=False).status_code == 303
        [event] = audit_events(session_factory, "invitation.remind")
        assert event.details["count"] == 4

    def test_no_reminders_for_a_closed_campaign(
        self, coordinator: TestClient, world: World
    ) -> None:
        coordinator.post(f"/api/v1/campaigns/{world.slug}/close")
        refused = coordinator.post(f"/api/v1/campaigns/{world.slug}/reminders")
        assert refused.status_code == 409


class TestRoles:
    def test_who_may_do_what(self, client: TestClient, client_as: ClientAs, world: World) -> None:
        slug = world.slug
        reads = [
            "/api/v1/campaigns",
            f"/api/v1/campaigns/{slug}",
            f"/api/v1/campaigns/{slug}/completion",
        ]
        manages = [
            ("GET", f"/api/v1/campaigns/{slug}/invitations"),
            ("POST", f"/api/v1/campaigns/{slug}/invitations"),
            ("POST", f"/api/v1/campaigns/{slug}/close"),
            ("POST", f"/api/v1/campaigns/{slug}/reminders"),
        ]
        for url in reads:
            assert client.get(url).status_code == 401, url
        for role, read, manage in (
            ("researcher", 403, 403),
            ("domain_lead", 200, 403),
            ("admin", 200, None),
        ):
            other, _ = client_as(role)
            for url in reads:
                assert other.get(url).status_code == read, (role, url)
            for method, url in manages:
                status = other.request(method, url).status_code
                if manage is None:
                    assert status not in (401, 403), (role, url)
                else:
                    assert status == manage, (role, url)

    def test_a_missing_campaign_is_a_404_problem(self, coordinator: TestClient) -> None:
        response = coordinator.get("/api/v1/campaigns/no-such-campaign/completion")
        assert response.status_code == 404
        assert response.json()["code"] == "campaign_not_found"
