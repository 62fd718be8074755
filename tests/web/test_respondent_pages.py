"""A centre's journey through the pages, without JavaScript (the TestClient posts the forms)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from surveys.campaigns.invitations import issue_invitation, revoke_invitation
from surveys.campaigns.lifecycle import close_campaign
from surveys.campaigns.models import Campaign
from tests.builders import BUILDER, make_campaign, make_centre, make_published_form

RADIO_FORM = """
| survey |
|        | type              | name    | label::en      | label::fr      | required | relevant           | constraint | constraint_message::en | constraint_message::fr |
|        | select_one yes_no | has_pet | PET/CT?        | TEP/TDM ?      | yes      |                    |            |                        |                        |
|        | integer           | units   | How many?      | Combien ?      | yes      | ${has_pet} = 'yes' | . >= 0     | Enter 0 or more.       | Saisissez 0 ou plus. |
|        | begin_repeat      | devices | Devices        | Appareils      |          | ${has_pet} = 'yes' |            |                        |                        |
|        | text              | vendor  | Vendor         | Fabricant      |          |                    |            |                        |                        |
|        | end_repeat        |         |                |                |          |                    |            |                        |                        |
|        | text              | notes   | Notes          | Notes          |          |                    |            |                        |                        |
| choices |
|         | list_name | name | label::en | label::fr |
|         | yes_no    | yes  | Yes       | Oui       |
|         | yes_no    | no   | No        | Non       |
| settings |
|          | form_id | version | title::en  | title::fr  | domain           |
|          | petscan | 1       | PET survey | Enquête TEP | nuclear_medicine |
"""


@pytest.fixture
def invited(session_factory: sessionmaker[Session]) -> dict[str, object]:
    with session_factory() as session, session.begin():
        centre = make_centre(session, name="Centre Oscar Lambret", country="FR")
        version = make_published_form(session, RADIO_FORM)
        campaign = make_campaign(session, slug="wave-web", centres=[centre], versions=[version])
        issued = issue_invitation(session, campaign, centre)
        return {
            "token": issued.token,
            "campaign_id": campaign.id,
            "invitation_id": issued.invitation.id,
        }


def sign_in(client: TestClient, token: str) -> None:
    response = client.get(f"/i/{token}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/r/"
    assert "accessgap_respondent=" in response.headers["set-cookie"]


def csrf_and_version(html: str) -> tuple[str, str]:
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    version = re.search(r'name="expected_version" value="(\d+)"', html)
    assert csrf
    assert version
    return csrf.group(1), version.group(1)


def test_open_fill_in_save_submit_and_receipt(
    client: TestClient, invited: dict[str, object]
) -> None:
    token = str(invited["token"])
    sign_in(client, token)
    overview = client.get("/r/")
    assert "PET survey" in overview.text
    assert token not in overview.text

    page = client.get("/r/forms/petscan")
    assert page.status_code == 200
    assert 'data-question="units"' in page.text
    csrf, version = csrf_and_version(page.text)
    saved = client.post(
        "/r/forms/petscan",
        data={
            "csrf_token": csrf,
            "expected_version": version,
            "action": "save",
            "has_pet": "yes",
            "units": "-2",
            "devices.0.vendor": "Siemens",
            "devices.__present__": "1",
            "notes": "Ligne 1\r\nLigne 2 🩺",
        },
    )
    assert saved.status_code == 200
    assert "Your answers are saved." in saved.text
    assert "Enter 0 or more." in saved.text  # shown inline, the draft keeps the value
    assert 'value="-2"' in saved.text

    csrf, version = csrf_and_version(saved.text)
    refused = client.post(
        "/r/forms/petscan",
        data={
            "csrf_token": csrf,
            "expected_version": version,
            "action": "submit",
            "has_pet": "yes",
            "units": "-2",
            "notes": "Ligne 1\r\nLigne 2 🩺",
        },
    )
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert 'href="#q-units"' in refused.text

    csrf, version = csrf_and_version(refused.text)
    done = client.post(
        "/r/forms/petscan",
        follow_redirects=False,
        data={
            "csrf_token": csrf,
            "expected_version": version,
            "action": "submit",
            "has_pet": "yes",
            "units": "2",
            "devices.0.vendor": "Siemens",
            "devices.__present__": "1",
            "notes": "Ligne 1\r\nLigne 2 🩺",
        },
    )
    assert done.status_code == 303
    receipt = client.get(done.headers["location"])
    assert "your answers are submitted" in receipt.text
    assert "Siemens" in receipt.text
    assert "Ligne 2 🩺" in receipt.text
    assert "Submitted" in client.get("/r/").text


def test_a_stale_save_is_409_and_keeps_the_input(
    client: TestClient, invited: dict[str, object]
) -> None:
    sign_in(client, str(invited["token"]))
    page = client.get("/r/forms/petscan")
    csrf, version = csrf_and_version(page.text)
    first = client.post(
        "/r/forms/petscan",
        data={
            "csrf_token": csrf,
            "expected_version": version,
            "action": "save",
            "notes": "from tab A",
        },
    )
    assert first.status_code == 200
    stale = client.post(
        "/r/forms/petscan",
        data={
            "csrf_token": csrf,
            "expected_version": version,
            "action": "save",
            "notes": "from tab B",
        },
    )
    assert stale.status_code == 409
    assert "Someone else saved this questionnaire" in stale.text
    assert "from tab B" in stale.text  # B's input is kept in the form
    assert "from tab A" in stale.text  # next to the current values
    as_json = client.post(
        "/r/forms/petscan",
        headers={"Accept": "application/json"},
        data={"csrf_token": csrf, "expected_version": version, "action": "save", "notes": "tab C"},
    )
    assert as_json.status_code == 409
    assert as_json.json()["code"] == "stale_version"
    assert as_json.json()["your_answers"] == {"notes": "tab C"}


def test_a_closed_campaign_refuses_but_keeps_what_was_typed(
    client: TestClient, invited: dict[str, object], session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, str(invited["token"]))
    csrf, version = csrf_and_version(client.get("/r/forms/petscan").text)
    with session_factory() as session, session.begin():
        campaign = session.get_one(Campaign, invited["campaign_id"])
        close_campaign(session, BUILDER, campaign, request_id=None)
    response = client.post(
        "/r/forms/petscan",
        data={
            "csrf_token": csrf,
            "expected_version": version,
            "action": "save",
            "notes": "late words",
        },
    )
    assert response.status_code == 409
    assert "The campaign is closed" in response.text
    assert "late words" in response.text


def test_unknown_revoked_and_expired_links(
    client: TestClient, invited: dict[str, object], session_factory: sessionmaker[Session]
) -> None:
    unknown = client.get("/i/not-a-real-token")
    assert unknown.status_code == 404
    with session_factory() as session, session.begin():
        revoke_invitation(
            session,
            BUILDER,
            session.get_one(Campaign, invited["campaign_id"]),
            int(str(invited["invitation_id"])),
            request_id=None,
        )
    revoked = client.get(f"/i/{invited['token']}")
    assert revoked.status_code == 404
    assert revoked.text.replace(str(invited["token"]), "").count("not valid") == unknown.text.count(
        "not valid"
    )
    with session_factory() as session, session.begin():
        campaign = session.get_one(Campaign, invited["campaign_id"])
        centre = make_centre(session, name="Late centre", country="BE")
        expired = issue_invitation(
            session, campaign, centre, expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        )
    gone = client.get(f"/i/{expired.token}")
    assert gone.status_code == 410
    assert "has expired" in gone.text


def test_without_a_session_the_form_asks_for_the_link(client: TestClient) -> None:
    response = client.get("/r/forms/petscan")
    assert response.status_code == 404
    assert "invitation" in response.text


def test_a_post_without_csrf_is_refused(client: TestClient, invited: dict[str, object]) -> None:
    sign_in(client, str(invited["token"]))
    client.get("/r/forms/petscan")
    response = client.post("/r/forms/petscan", data={"expected_version": "1", "notes": "x"})
    assert response.status_code == 403


def test_guessing_links_is_throttled_but_valid_links_keep_working(
    client: TestClient, invited: dict[str, object]
) -> None:
    for _ in range(20):  # twenty failures a minute are allowed ...
        assert client.get("/i/guessed-token").status_code == 404
    blocked = client.get("/i/guessed-token")  # ... the next one blocks the address
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 60
    assert "Too many invalid invitation links" in blocked.text
    # a valid link still works from the same address
    assert client.get(f"/i/{invited['token']}", follow_redirects=False).status_code == 303
