"""Coordinator pages, per role and without JavaScript: campaigns, completion, invitations,
responses (review, correction, withdrawal, history and diff)."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from surveys.audit.models import AuditEvent
from surveys.responses.submission import start_draft, submit
from tests.accounts_fixtures import SignedIn, sign_in
from tests.builders import make_campaign, make_centre, make_published_form

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
    """FR1 submitted PET and radiomics; FR2 has a PET draft; DE1 submitted radiomics."""

    ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    world = World()
    now = dt.datetime.now(dt.UTC)
    with session_factory() as session, session.begin():
        pet = make_published_form(session)
        radio = make_published_form(session, RADIO_FORM)
        centres = {
            key: make_centre(session, name=f"Centre {key}", country=key[:2])
            for key in ("FR1", "FR2", "DE1")
        }
        campaign = make_campaign(
            session, slug="wave-1", centres=list(centres.values()), versions=[pet, radio]
        )
        plan: list[tuple[str, str, Any, dict[str, Any]]] = [
            ("fr1_pet", "FR1", pet, {"has_pet": "yes", "units": 2}),
            ("fr1_radio", "FR1", radio, {"has_radiomics": "yes", "studies": 3}),
            ("de1_radio", "DE1", radio, {"has_radiomics": "no"}),
        ]
        for name, centre, version, answers in plan:
            world.ids[name] = submit(
                session,
                submission_uuid=str(uuid.uuid4()),
                campaign=campaign,
                centre=centres[centre],
                version=version,
                answers=answers,
                now=now,
                actor="invitation:1",
            ).response.id
        world.ids["fr2_draft"] = start_draft(session, campaign, centres["FR2"], pet, now=now).id
    return world


@pytest.fixture
def coordinator(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    sign_in(client, session_factory, role="coordinator")
    return client


def text_of(page: str) -> str:
    """The page as text: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def row(page: str, table: str, key: str) -> list[str]:
    """The cells of one row (by ``data-key``) of a completion table."""
    section = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    found = re.search(rf'<tr data-key="{key}">(.*?)</tr>', section, re.S)
    assert found, (table, key)
    return [
        text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found.group(1), re.S)
    ]


def strip_ids(body: str) -> str:
    body = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", body)
    body = re.sub(r'name="csrf_token" value="[^"]+"', "CSRF", body)
    return re.sub(r'nonce="[^"]+"', "NONCE", body)


def actions(session_factory: sessionmaker[Session]) -> list[str]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


class TestRoles:
    def test_pages_per_role(self, client: TestClient, client_as: ClientAs, world: World) -> None:
        reads = ["/coordinator", "/coordinator/campaigns/wave-1", "/coordinator/responses"]
        manages = ["/coordinator/campaigns/new", "/coordinator/campaigns/wave-1/invitations"]
        for url in reads + manages:
            answer = client.get(url, follow_redirects=False)
            assert answer.status_code == 303, url
            assert answer.headers["location"].startswith("/login?next=")
        researcher, _ = client_as("researcher")
        for url in reads + manages:
            assert researcher.get(url).status_code == 403, url
        lead, _ = client_as("domain_lead", domains=["radiomics"])
        for url in reads:
            assert lead.get(url).status_code == 200, url
        for url in manages:
            assert lead.get(url).status_code == 403, url
        admin, _ = client_as("admin")
        for url in reads + manages:
            assert admin.get(url).status_code == 200, url
        post = lead.post(
            f"/coordinator/responses/{world.ids['fr1_radio']}/review", data={"state": "approved"}
        )
        assert post.status_code == 403

    def test_a_domain_lead_reads_their_domain_only(self, client_as: ClientAs, world: World) -> None:
        lead, _ = client_as("domain_lead", domains=["radiomics"])
        listing = lead.get("/coordinator/responses").text
        assert f'href="/coordinator/responses/{world.ids["fr1_radio"]}"' in listing
        assert f'href="/coordinator/responses/{world.ids["fr1_pet"]}"' not in listing
        own = lead.get(f"/coordinator/responses/{world.ids['fr1_radio']}")
        assert own.status_code == 200
        assert "Save the review" not in own.text
        assert "Withdraw this response" not in own.text
        for suffix in ("", "/diff?from=1&to=1"):
            foreign = lead.get(f"/coordinator/responses/{world.ids['fr1_pet']}{suffix}")
            missing = lead.get(f"/coordinator/responses/2147483647{suffix}")
            assert foreign.status_code == missing.status_code == 404
            assert strip_ids(foreign.text) == strip_ids(missing.text)
        campaign = lead.get("/coordinator/campaigns/wave-1").text
        assert row(campaign, "completion-domain", "radiomics")[1:4] == ["3", "2", "2"]
        assert 'data-key="nuclear_medicine"' not in campaign


class TestCampaigns:
    def test_set_up_with_the_input_kept_on_errors_then_open(
        self, coordinator: TestClient, session_factory: sessionmaker[Session]
    ) -> None:
        with session_factory() as session, session.begin():
            make_published_form(session)
            make_centre(session, name="A", country="FR")
        form = coordinator.get("/coordinator/campaigns/new")
        assert 'value="pet_small"' in form.text
        bad = coordinator.post(
            "/coordinator/campaigns",
            data={"name": "Wave <2027>", "slug": "Bad Slug", "closes_on": "31/12/2027"},
        )
        assert bad.status_code == 422
        assert 'id="error-summary"' in bad.text
        assert 'value="Wave &lt;2027&gt;"' in bad.text
        assert 'value="Bad Slug"' in bad.text
        assert "not a date; use YYYY-MM-DD" in bad.text
        created = coordinator.post(
            "/coordinator/campaigns",
            data={
                "name": "Wave 2027",
                "slug": "wave-2027",
                "closes_on": "2099-12-31",
                "form_ids": "pet_small",
                "centre_scope": "countries",
                "countries": "FR",
            },
            follow_redirects=False,
        )
        assert created.status_code == 303, created.text
        assert created.headers["location"] == "/coordinator/campaigns/wave-2027"
        page = coordinator.get("/coordinator/campaigns/wave-2027").text
        assert "2100-01-01 00:00 UTC" in page
        assert "Open the campaign" in page
        opened = coordinator.post("/coordinator/campaigns/wave-2027/open", follow_redirects=False)
        assert opened.status_code == 303
        closed = coordinator.post("/coordinator/campaigns/wave-2027/close", follow_redirects=False)
        assert closed.status_code == 303
        reopen = coordinator.post(
            "/coordinator/campaigns/wave-2027/reopen", data={"closes_on": "2001-01-01"}
        )
        assert reopen.status_code == 422
        assert "must be in the future" in reopen.text
        assert actions(session_factory)[-3:] == [
            "campaign.create",
            "campaign.open",
            "campaign.close",
        ]

    def test_completion_tables(self, coordinator: TestClient, world: World) -> None:
        page = coordinator.get("/coordinator/campaigns/wave-1").text
        assert row(page, "completion-total", "total") == ["Total", "3", "3", "2", "67 %"]
        assert row(page, "completion-country", "FR") == ["France (FR)", "2", "2", "1", "50 %"]
        assert row(page, "completion-country", "DE") == ["Germany (DE)", "1", "1", "1", "100 %"]
        assert row(page, "completion-domain", "nuclear_medicine") == [
            "Nuclear medicine",
            "3",
            "2",
            "1",
            "33 %",
        ]


class TestInvitations:
    def test_issue_download_reissue_revoke(
        self, coordinator: TestClient, world: World, session_factory: sessionmaker[Session]
    ) -> None:
        page = coordinator.get("/coordinator/campaigns/wave-1/invitations")
        assert "Links are shown only once." in page.text
        assert "Issue 3 links and download the CSV" in page.text
        past = coordinator.post(
            "/coordinator/campaigns/wave-1/invitations", data={"expires_on": "2001-01-01"}
        )
        assert past.status_code == 422
        assert "must be in the future" in past.text
        download = coordinator.post("/coordinator/campaigns/wave-1/invitations")
        assert download.status_code == 200
        assert download.headers["content-type"] == "text/csv; charset=utf-8"
        links = [r["link"] for r in csv.DictReader(io.StringIO(download.text))]
        assert len(links) == 3
        listing = coordinator.get("/coordinator/campaigns/wave-1/invitations").text
        assert listing.count(">live<") == 3
        assert not any(link.rsplit("/", 1)[1] in listing for link in links)
        nothing = coordinator.post("/coordinator/campaigns/wave-1/invitations")
        assert "nothing was issued" in nothing.text

        invitation = re.search(r"/invitations/(\d+)/reissue", listing)
        assert invitation
        renewed = coordinator.post(
            f"/coordinator/campaigns/wave-1/invitations/{invitation.group(1)}/reissue"
        )
        assert renewed.status_code == 201
        assert "Copy it now." in renewed.text
        new_id = max(
            int(i)
            for i in re.findall(
                r"/invitations/(\d+)/revoke",
                coordinator.get("/coordinator/campaigns/wave-1/invitations").text,
            )
        )
        revoked = coordinator.post(
            f"/coordinator/campaigns/wave-1/invitations/{new_id}/revoke", follow_redirects=False
        )
        assert revoked.status_code == 303
        reminders = coordinator.post("/coordinator/campaigns/wave-1/reminders")
        assert reminders.headers["content-type"] == "text/csv; charset=utf-8"
        assert actions(session_factory)[-4:] == [
            "invitation.issue",
            "invitation.reissue",
            "invitation.revoke",
            "invitation.remind",
        ]


class TestResponsePage:
    def test_answers_with_labels_in_the_readers_language_and_a_review(
        self, coordinator: TestClient, world: World
    ) -> None:
        url = f"/coordinator/responses/{world.ids['fr1_radio']}"
        french = text_of(coordinator.get(url, params={"lang": "fr"}).text)
        assert "Chaîne radiomique ? (has_radiomics) Oui" in french
        english = text_of(coordinator.get(url, headers={"Accept-Language": "en"}).text)
        assert "Radiomics pipeline? (has_radiomics) Yes" in english

        refused = coordinator.post(f"{url}/review", data={"state": "has_issues", "comment": ""})
        assert refused.status_code == 422
        assert '<option value="has_issues" selected>' in refused.text
        saved = coordinator.post(
            f"{url}/review",
            data={"state": "has_issues", "comment": "Studies <b>per</b> year?"},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        page = coordinator.get(url).text
        assert "Studies &lt;b&gt;per&lt;/b&gt; year?" in page
        listing = coordinator.get(
            "/coordinator/responses", params={"review_state": "has_issues"}
        ).text
        assert f'href="{url}"' in listing

    def test_a_stale_correction_keeps_what_was_typed(
        self, coordinator: TestClient, world: World, session_factory: sessionmaker[Session]
    ) -> None:
        url = f"/coordinator/responses/{world.ids['fr1_radio']}"
        page = coordinator.get(url).text
        version = re.search(r'name="expected_version" value="(\d+)"', page)
        assert version
        typed = json.dumps({"has_radiomics": "yes", "studies": 40})
        no_reason = coordinator.post(
            f"{url}/correct",
            data={"action": "json", "answers_json": typed, "expected_version": version.group(1)},
        )
        assert no_reason.status_code == 422
        assert "say why the answers are corrected" in no_reason.text
        first = coordinator.post(
            f"{url}/correct",
            data={
                "action": "fields",
                "has_radiomics": "yes",
                "studies": "30",
                "correction_reason": "Confirmed by phone",
                "expected_version": version.group(1),
            },
            follow_redirects=False,
        )
        assert first.status_code == 303
        stale = coordinator.post(
            f"{url}/correct",
            data={
                "action": "json",
                "answers_json": typed,
                "correction_reason": "Typo in studies",
                "expected_version": version.group(1),
            },
        )
        assert stale.status_code == 409
        assert typed in html.unescape(stale.text)
        assert 'value="Typo in studies"' in stale.text
        assert "out of date" in stale.text

        history = coordinator.get(url).text
        assert "Confirmed by phone" in history
        diff = coordinator.get(f"{url}/diff", params={"from": 1, "to": 2}).text
        assert 'data-path="studies"' in diff
        assert "Studies per year" in diff
        assert "response.update.version" in actions(session_factory)

    def test_withdraw(self, coordinator: TestClient, world: World) -> None:
        url = f"/coordinator/responses/{world.ids['de1_radio']}"
        version = re.search(r'name="expected_version" value="(\d+)"', coordinator.get(url).text)
        assert version
        refused = coordinator.post(
            f"{url}/withdraw", data={"withdraw_reason": "", "expected_version": version.group(1)}
        )
        assert refused.status_code == 422
        done = coordinator.post(
            f"{url}/withdraw",
            data={"withdraw_reason": "Duplicate", "expected_version": version.group(1)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        page = coordinator.get(url).text
        assert "status-withdrawn" in page
        assert "Save the corrected answers" not in page

    def test_drafts_are_not_shown(self, coordinator: TestClient, world: World) -> None:
        assert (
            coordinator.get(f"/coordinator/responses/{world.ids['fr2_draft']}").status_code == 404
        )
        listing = coordinator.get("/coordinator/responses").text
        assert 'data-testid="response-count">3 responses' in listing
