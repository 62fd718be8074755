"""Researcher grants, campaign-scoped tokens and the export rate limit (issue 14, point 6).

A researcher reads and exports only the campaigns granted to them; admins and coordinators grant
and revoke (JSON API and admin page, each audited); a token issued for some campaigns reads only
those; a researcher's 21st export in an hour is a 429 problem with ``Retry-After``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.settings import Settings
from surveys.audit.models import AuditEvent
from tests.accounts_fixtures import SignedIn, grant_every_campaign, sign_in
from tests.builders import make_campaign
from tests.surveys.exports.data import make_world

EXPORTS = "/api/v1/exports"
Login = Callable[..., tuple[TestClient, SignedIn]]


def two_campaigns(session_factory: sessionmaker[Session]) -> tuple[str, str]:
    """wave-x with approved answers, wave-y with the same questionnaire and none."""
    with session_factory() as session, session.begin():
        world = make_world(session, approve=2)
        other = make_campaign(
            session, slug="wave-y", centres=world.centres[:1], versions=[world.version]
        )
        return world.campaign.slug, other.slug


def actions(session_factory: sessionmaker[Session], prefix: str) -> list[str]:
    with session_factory() as session:
        found = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.id)
        )
        return list(found)


def export(client: TestClient, campaign: str | None, **headers: str) -> int:
    params = {"campaign": campaign, "plain": "true"} if campaign else {"plain": "true"}
    return client.get(f"{EXPORTS}/csv-long", params=params, headers=headers).status_code


def data_lines(client: TestClient) -> int:
    """Data rows of the unfiltered long CSV export (the first line is the header)."""
    response = client.get(f"{EXPORTS}/csv-long", params={"plain": "true"})
    assert response.status_code == 200, response.text
    return max(0, len(response.text.splitlines()) - 1)


def test_grants_decide_what_a_researcher_and_their_tokens_read(
    client_as: Login, session_factory: sessionmaker[Session]
) -> None:
    granted, other = two_campaigns(session_factory)
    researcher, who = client_as("researcher")
    coordinator, staff = client_as("coordinator")
    release = coordinator.post("/api/v1/releases", json={"campaign": granted}).json()
    release_url = f"/api/v1/releases/{release['id']}"

    # Nothing granted: the campaign is "not found", as a missing one.
    refused = researcher.get(f"{EXPORTS}/csv-long", params={"campaign": granted, "plain": "true"})
    assert (refused.status_code, refused.json()["code"]) == (404, "campaign_not_found")
    assert researcher.get("/api/v1/grants").json() == []
    assert data_lines(researcher) == 0  # an export of "everything" holds no campaign at all
    assert researcher.get("/api/v1/releases").json() == []
    assert researcher.get(release_url).status_code == 404
    assert researcher.get(f"{release_url}/download").status_code == 404

    made = coordinator.post("/api/v1/grants", json={"user_id": who.user_id, "campaign": granted})
    assert made.status_code == 201, made.text
    again = coordinator.post("/api/v1/grants", json={"user_id": who.user_id, "campaign": granted})
    assert (again.status_code, again.json()["id"]) == (200, made.json()["id"])
    not_researcher = coordinator.post(
        "/api/v1/grants", json={"user_id": staff.user_id, "campaign": granted}
    )
    assert (not_researcher.status_code, not_researcher.json()["code"]) == (422, "not_a_researcher")
    assert (
        researcher.post(
            "/api/v1/grants", json={"user_id": who.user_id, "campaign": other}
        ).status_code
        == 403
    )

    assert export(researcher, granted) == 200
    assert export(researcher, other) == 404
    assert data_lines(researcher) == data_lines(coordinator) > 0  # wave-y has no answers
    assert [r["id"] for r in researcher.get("/api/v1/releases").json()] == [release["id"]]
    assert researcher.get(release_url).status_code == 200
    assert researcher.get("/api/v1/releases", params={"campaign": other}).status_code == 404
    assert [g["campaign"] for g in researcher.get("/api/v1/grants").json()] == [granted]

    # A token narrowed to campaigns: only granted ones may be named, and it reads only those.
    scopes = ["export:pseudonymised"]
    too_wide = researcher.post(
        "/api/v1/tokens", json={"name": "t", "scopes": scopes, "campaigns": [other]}
    )
    assert (too_wide.status_code, too_wide.json()["errors"][0]["loc"]) == (422, ["campaigns"])
    issued = researcher.post(
        "/api/v1/tokens", json={"name": "t", "scopes": scopes, "campaigns": [granted]}
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["campaigns"] == [granted]
    bearer = {"Authorization": f"Bearer {issued.json()['token']}"}
    coordinator.post("/api/v1/grants", json={"user_id": who.user_id, "campaign": other})
    assert export(researcher, other) == 200  # the person now reads both ...
    token_client = TestClient(researcher.app, raise_server_exceptions=False)
    assert export(token_client, granted, **bearer) == 200
    assert export(token_client, other, **bearer) == 404  # ... the token still only its one

    # A coordinator's token narrowed to one campaign reads only that one too.
    coordinator_token = coordinator.post(
        "/api/v1/tokens", json={"name": "c", "scopes": scopes, "campaigns": [other]}
    ).json()["token"]
    assert export(token_client, granted, Authorization=f"Bearer {coordinator_token}") == 404
    assert export(token_client, other, Authorization=f"Bearer {coordinator_token}") == 200

    revoked = coordinator.delete(f"/api/v1/grants/{made.json()['id']}")
    assert revoked.status_code == 204
    assert coordinator.delete(f"/api/v1/grants/{made.json()['id']}").status_code == 404
    assert export(researcher, granted) == 404
    assert export(token_client, granted, **bearer) == 404
    token_client.close()
    assert actions(session_factory, "campaign.grant") == [
        "campaign.grant",
        "campaign.grant",
        "campaign.grant_revoke",
    ]


def test_grants_and_campaign_tokens_on_the_pages(
    client_as: Login, session_factory: sessionmaker[Session]
) -> None:
    granted, other = two_campaigns(session_factory)
    _, who = client_as("researcher")
    coordinator, signed = client_as("coordinator")
    page = coordinator.get("/admin/grants")
    assert page.status_code == 200
    assert "No researcher holds a grant." in page.text
    bad = coordinator.post(
        "/admin/grants", data={"csrf_token": signed.csrf, "user_id": "", "campaign": granted}
    )
    assert bad.status_code == 422
    assert "Choose the researcher to grant the campaign to." in bad.text
    not_researcher = coordinator.post(
        "/admin/grants",
        data={"csrf_token": signed.csrf, "user_id": str(signed.user_id), "campaign": granted},
    )
    assert not_researcher.status_code == 422
    assert "not a researcher account" in not_researcher.text
    done = coordinator.post(
        "/admin/grants",
        data={"csrf_token": signed.csrf, "user_id": str(who.user_id), "campaign": granted},
        follow_redirects=False,
    )
    assert done.status_code == 303
    listed = coordinator.get("/api/v1/grants", params={"user_id": who.user_id}).json()
    assert [g["campaign"] for g in listed] == [granted]
    assert granted in coordinator.get("/admin/grants").text
    gone = coordinator.post(
        f"/admin/grants/{listed[0]['id']}/revoke",
        data={"csrf_token": signed.csrf},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert coordinator.get("/api/v1/grants").json() == []

    # A token for one campaign, issued on the account page, reads that campaign only.
    form = {"csrf_token": signed.csrf, "name": "one wave", "scopes": "export:pseudonymised"}
    bad = coordinator.post("/account/tokens", data={**form, "campaigns": f"{granted}, NOT A SLUG"})
    assert bad.status_code == 422
    issued = coordinator.post("/account/tokens", data={**form, "campaigns": granted})
    assert issued.status_code == 201, issued.text
    token = re.search(r"agt_[A-Za-z0-9_-]+", issued.text)
    assert token is not None
    bearer = {"Authorization": f"Bearer {token.group(0)}"}
    reader = TestClient(coordinator.app, raise_server_exceptions=False)
    assert export(reader, granted, **bearer) == 200
    assert export(reader, other, **bearer) == 404
    reader.close()
    assert f"(campaigns: {granted})" in coordinator.get("/account").text


def test_a_researcher_is_limited_to_a_number_of_exports_an_hour(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    granted, _ = two_campaigns(session_factory)
    limited = settings.model_copy(update={"researcher_exports_per_hour": 3})
    app = create_app(limited)
    app.state.session_factory = session_factory
    with TestClient(app, raise_server_exceptions=False) as client:
        who = sign_in(client, session_factory, role="researcher")
        with session_factory() as session, session.begin():
            grant_every_campaign(session, who.user_id)
        assert [export(client, granted) for _ in range(3)] == [200] * 3
        refused = client.get(f"{EXPORTS}/csv-long", params={"campaign": granted, "plain": "true"})
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 3590 <= int(refused.headers["retry-after"]) <= 3601
        problem = refused.json()
        assert (problem["code"], problem["status"]) == ("export_rate_limited", 429)
        assert "3 exports in the last hour" in problem["detail"]
        assert problem["request_id"]
        # A coordinator is not limited.
        sign_in(client, session_factory, role="coordinator")
        assert [export(client, granted) for _ in range(4)] == [200] * 4
