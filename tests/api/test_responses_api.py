"""Response routes for staff: lists without drafts, domain scoping in the query, review with
comments, corrections as versions with a reason, withdrawal, version diffs; and RELIABILITY.md
scenario 10 (no bulk statement bypasses the version counter)."""

from __future__ import annotations

import ast
import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from surveys.audit.models import AuditEvent
from surveys.campaigns.models import Campaign
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.models import Centre
from surveys.responses.errors import Withdrawn
from surveys.responses.models import Response
from surveys.responses.submission import start_draft, submit
from tests.accounts_fixtures import SignedIn, sign_in
from tests.builders import make_campaign, make_centre, make_published_form

ROOT = Path(__file__).resolve().parents[2]
RADIO_FORM = """
| survey |
|        | type              | name          | label::en           | label::fr           | required |
|        | select_one yes_no | has_radiomics | Radiomics pipeline? | Chaîne radiomique ? | yes      |
|        | integer           | studies       | Studies per year    | Études par an       |          |
|        | begin_repeat      | tools         | Tools               | Outils              |          |
|        | text              | tool_name     | Tool                | Outil               |          |
|        | end_repeat        |               |                     |                     |          |
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
    """FR1 submitted PET (nuclear medicine) and radiomics; FR2 has a PET draft; DE1 submitted
    radiomics; DE2 submitted PET and it was withdrawn."""

    ids: dict[str, int] = field(default_factory=dict)
    uuids: dict[str, str] = field(default_factory=dict)


def build_world(session_factory: sessionmaker[Session]) -> World:
    world = World()
    now = dt.datetime.now(dt.UTC)
    with session_factory() as session, session.begin():
        pet = make_published_form(session)
        radio = make_published_form(session, RADIO_FORM)
        centres = {
            key: make_centre(session, name=f"Centre {key}", country=key[:2])
            for key in ("FR1", "FR2", "DE1", "DE2")
        }
        campaign = make_campaign(
            session, slug="wave-1", centres=list(centres.values()), versions=[pet, radio]
        )
        plan: list[tuple[str, str, Any, dict[str, Any]]] = [
            ("fr1_pet", "FR1", pet, {"has_pet": "yes", "units": 2}),
            ("fr1_radio", "FR1", radio, {"has_radiomics": "yes", "tools": [{"tool_name": "A"}]}),
            ("de1_radio", "DE1", radio, {"has_radiomics": "no"}),
            ("de2_pet", "DE2", pet, {"has_pet": "no"}),
        ]
        for name, centre, version, answers in plan:
            world.uuids[name] = str(uuid.uuid4())
            outcome = submit(
                session,
                submission_uuid=world.uuids[name],
                campaign=campaign,
                centre=centres[centre],
                version=version,
                answers=answers,
                now=now,
                actor="invitation:1",
            )
            world.ids[name] = outcome.response.id
        world.ids["fr2_draft"] = start_draft(session, campaign, centres["FR2"], pet, now=now).id
        session.get_one(Response, world.ids["de2_pet"]).status = "withdrawn"
    return world


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


@pytest.fixture
def coordinator(client: TestClient, session_factory: sessionmaker[Session]) -> TestClient:
    sign_in(client, session_factory, role="coordinator")
    return client


def audit_count(session_factory: sessionmaker[Session], action: str) -> int:
    with session_factory() as session:
        return (
            session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))
            or 0
        )


def last_event(session_factory: sessionmaker[Session], action: str) -> AuditEvent:
    with session_factory() as session:
        return session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
        ).first()  # type: ignore[return-value]


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "request_id"}


class TestList:
    def test_drafts_never_appear_and_filters_apply(
        self, coordinator: TestClient, world: World
    ) -> None:
        def ids(**params: str) -> set[int]:
            body = coordinator.get("/api/v1/responses", params=params).json()
            return {item["id"] for item in body["items"]}

        everything = ids()
        assert everything == {
            world.ids[k] for k in ("fr1_pet", "fr1_radio", "de1_radio", "de2_pet")
        }
        assert world.ids["fr2_draft"] not in everything
        assert ids(status="withdrawn") == {world.ids["de2_pet"]}
        assert ids(country="de") == {world.ids["de1_radio"], world.ids["de2_pet"]}
        assert ids(form_id="radio_small") == {world.ids["fr1_radio"], world.ids["de1_radio"]}
        assert ids(campaign="no-such") == set()
        assert len(ids(review_state="received")) == 4
        bad = coordinator.get("/api/v1/responses", params={"review_state": "nonsense"})
        assert bad.status_code == 422

    def test_a_domain_lead_lists_their_domain_only(self, client_as: ClientAs, world: World) -> None:
        lead, _ = client_as("domain_lead", domains=["radiomics"])
        body = lead.get("/api/v1/responses").json()
        assert {i["id"] for i in body["items"]} == {world.ids["fr1_radio"], world.ids["de1_radio"]}
        assert body["total"] == 2
        # asking for another domain's responses by filter gives nothing, not an error
        assert lead.get("/api/v1/responses", params={"form_id": "pet_small"}).json()["total"] == 0
        narrow, _ = client_as("domain_lead", domains=["radiomics"], countries=["DE"])
        assert narrow.get("/api/v1/responses").json()["total"] == 1


class TestRead:
    def test_answers_and_comments(self, coordinator: TestClient, world: World) -> None:
        body = coordinator.get(f"/api/v1/responses/{world.ids['fr1_radio']}").json()
        assert body["answers"]["tools"] == [{"tool_name": "A"}]
        assert body["status"] == "submitted"
        assert body["review_state"] == "received"
        assert body["review_comments"] == []
        assert body["country"] == "FR"

    def test_a_foreign_response_answers_exactly_like_a_missing_one(
        self, client_as: ClientAs, world: World
    ) -> None:
        lead, _ = client_as("domain_lead", domains=["radiomics"])
        for suffix in ("", "/versions", "/versions/1", "/diff?from=1&to=1"):
            foreign = lead.get(f"/api/v1/responses/{world.ids['fr1_pet']}{suffix}")
            missing = lead.get(f"/api/v1/responses/2147483647{suffix}")
            assert foreign.status_code == missing.status_code == 404, suffix
            assert without_request_id(foreign.json()) == without_request_id(missing.json())
        assert lead.get(f"/api/v1/responses/{world.ids['fr1_radio']}").status_code == 200

    def test_drafts_and_odd_ids_are_not_found(self, coordinator: TestClient, world: World) -> None:
        for odd in (str(world.ids["fr2_draft"]), "99999999999999999999", "-1", "0"):
            assert coordinator.get(f"/api/v1/responses/{odd}").status_code == 404, odd
        assert coordinator.get("/api/v1/responses/abc").status_code == 422


class TestRoles:
    def test_who_may_read_and_who_may_change(
        self, client: TestClient, client_as: ClientAs, world: World
    ) -> None:
        url = f"/api/v1/responses/{world.ids['fr1_radio']}"
        review = {"state": "approved"}
        assert client.get("/api/v1/responses").status_code == 401
        assert client.post(f"{url}/review", json=review).status_code == 401
        researcher, _ = client_as("researcher")
        assert researcher.get("/api/v1/responses").status_code == 403
        assert researcher.get(url).status_code == 403
        lead, _ = client_as("domain_lead", domains=["radiomics"])
        assert lead.get(url).status_code == 200
        assert lead.post(f"{url}/review", json=review).status_code == 403
        assert (
            lead.post(f"{url}/withdraw", json={"reason": "x", "expected_version": 1}).status_code
            == 403
        )
        admin, _ = client_as("admin")
        assert admin.post(f"{url}/review", json=review).status_code == 200


class TestReview:
    def test_states_and_comments(
        self, coordinator: TestClient, world: World, session_factory: sessionmaker[Session]
    ) -> None:
        url = f"/api/v1/responses/{world.ids['fr1_pet']}"
        refused = coordinator.post(f"{url}/review", json={"state": "has_issues"})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["comment"]

        flagged = coordinator.post(
            f"{url}/review", json={"state": "has_issues", "comment": "Units look too high."}
        ).json()
        assert flagged["review_state"] == "has_issues"
        assert [c["body"] for c in flagged["review_comments"]] == ["Units look too high."]
        approved = coordinator.post(
            f"{url}/review", json={"state": "approved", "expected_version": flagged["version"]}
        ).json()
        assert (approved["status"], approved["review_state"]) == ("approved", "approved")
        assert len(approved["review_comments"]) == 1
        stale = coordinator.post(
            f"{url}/review", json={"state": "rejected", "comment": "no", "expected_version": 1}
        )
        assert stale.status_code == 409
        assert stale.json()["code"] == "stale_version"
        listed = coordinator.get("/api/v1/responses", params={"review_state": "approved"}).json()
        assert [i["id"] for i in listed["items"]] == [world.ids["fr1_pet"]]
        assert listed["items"][0]["comments"] == 1
        assert audit_count(session_factory, "response.review") == 2
        assert last_event(session_factory, "response.review").details["to"] == "approved"


class TestCorrections:
    def test_a_correction_is_a_new_version_with_its_reason(
        self, coordinator: TestClient, world: World, session_factory: sessionmaker[Session]
    ) -> None:
        url = f"/api/v1/responses/{world.ids['fr1_radio']}"
        current = coordinator.get(url).json()
        corrected = coordinator.post(
            f"{url}/corrections",
            json={
                "answers": {"has_radiomics": "yes", "studies": 12, "tools": [{"tool_name": "B"}]},
                "expected_version": current["version"],
                "reason": "Phone call with the centre on 3 March",
            },
        )
        assert corrected.status_code == 201, corrected.text
        assert corrected.headers["location"] == f"{url}/versions/2"
        assert corrected.json()["reason"] == "Phone call with the centre on 3 March"

        versions = coordinator.get(f"{url}/versions").json()
        assert [(v["number"], v["reason"]) for v in versions] == [
            (1, None),
            (2, "Phone call with the centre on 3 March"),
        ]
        assert coordinator.get(f"{url}/versions/1").json()["answers"]["tools"] == [
            {"tool_name": "A"}
        ]
        diff = coordinator.get(f"{url}/diff", params={"from": 1, "to": 2}).json()
        assert diff["changes"] == [
            {"path": "studies", "kind": "added", "before": None, "after": 12},
            {"path": "tools[1].tool_name", "kind": "changed", "before": "A", "after": "B"},
        ]
        again = coordinator.get(f"{url}/diff", params={"from": 1, "to": 2}).json()
        assert again == diff

        event = last_event(session_factory, "response.update.version")
        assert event.details["reason"] == "Phone call with the centre on 3 March"
        assert event.details["number"] == 2
        assert event.actor.startswith("user:")

    def test_a_stale_correction_is_refused_and_changes_nothing(
        self, coordinator: TestClient, world: World
    ) -> None:
        url = f"/api/v1/responses/{world.ids['fr1_radio']}"
        version = coordinator.get(url).json()["version"]
        body = {"answers": {"has_radiomics": "no"}, "expected_version": version, "reason": "first"}
        assert coordinator.post(f"{url}/corrections", json=body).status_code == 201
        stale = coordinator.post(f"{url}/corrections", json={**body, "reason": "second"})
        assert stale.status_code == 409
        assert stale.json()["code"] == "stale_version"
        assert len(coordinator.get(f"{url}/versions").json()) == 2

    def test_refusals(self, coordinator: TestClient, world: World) -> None:
        url = f"/api/v1/responses/{world.ids['fr1_radio']}"
        version = coordinator.get(url).json()["version"]
        no_reason = coordinator.post(
            f"{url}/corrections",
            json={"answers": {"has_radiomics": "no"}, "expected_version": version, "reason": " "},
        )
        assert no_reason.status_code == 422
        invalid = coordinator.post(
            f"{url}/corrections",
            json={
                "answers": {"has_radiomics": "maybe"},
                "expected_version": version,
                "reason": "typo",
            },
        )
        assert invalid.status_code == 422
        assert invalid.json()["code"] == "invalid_answers"
        assert invalid.json()["errors"][0]["loc"] == ["has_radiomics"]
        assert len(coordinator.get(f"{url}/versions").json()) == 1


class TestWithdraw:
    def test_withdrawal_is_kept_as_a_version_and_is_final(
        self, coordinator: TestClient, world: World, session_factory: sessionmaker[Session]
    ) -> None:
        url = f"/api/v1/responses/{world.ids['de1_radio']}"
        version = coordinator.get(url).json()["version"]
        no_reason = coordinator.post(
            f"{url}/withdraw", json={"reason": "", "expected_version": version}
        )
        assert no_reason.status_code == 422
        withdrawn = coordinator.post(
            f"{url}/withdraw", json={"reason": "Duplicate of FR1", "expected_version": version}
        )
        assert withdrawn.status_code == 200
        assert withdrawn.json()["status"] == "withdrawn"
        versions = coordinator.get(f"{url}/versions").json()
        assert [(v["status"], v["reason"]) for v in versions][-1] == (
            "withdrawn",
            "Duplicate of FR1",
        )
        again = coordinator.post(
            f"{url}/withdraw",
            json={"reason": "again", "expected_version": withdrawn.json()["version"]},
        )
        assert again.status_code == 409
        correction = coordinator.post(
            f"{url}/corrections",
            json={"answers": {}, "expected_version": withdrawn.json()["version"], "reason": "x"},
        )
        assert correction.status_code == 409
        assert (
            last_event(session_factory, "response.withdraw").details["reason"] == "Duplicate of FR1"
        )

        # The centre's old tab re-posts the submission: refused, not resurrected (scenario 5).
        with session_factory() as session, session.begin():
            response = session.get_one(Response, world.ids["de1_radio"])
            campaign = session.get_one(Campaign, response.campaign_id)
            centre = session.get_one(Centre, response.centre_id)
            with pytest.raises(Withdrawn):
                submit(
                    session,
                    submission_uuid=world.uuids["de1_radio"],
                    campaign=campaign,
                    centre=centre,
                    version=session.get_one(
                        QuestionnaireVersion, response.questionnaire_version_id
                    ),
                    answers={"has_radiomics": "no"},
                    now=dt.datetime.now(dt.UTC),
                    actor="invitation:1",
                )


def test_every_staff_change_increments_the_version_and_writes_one_audit_row(
    coordinator: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    """Scenario 10, behaviour: review, correction and withdrawal each go through the ORM
    (so the version counter moves) and each leaves exactly one audit event."""
    url = f"/api/v1/responses/{world.ids['fr1_pet']}"
    steps: list[tuple[str, str, Callable[[int], dict[str, Any]]]] = [
        ("review", "response.review", lambda v: {"state": "has_issues", "comment": "check"}),
        (
            "corrections",
            "response.update.version",
            lambda v: {"answers": {"has_pet": "no"}, "expected_version": v, "reason": "fix"},
        ),
        ("withdraw", "response.withdraw", lambda v: {"reason": "dup", "expected_version": v}),
    ]
    with session_factory() as session:
        before_events = session.scalar(select(func.count(AuditEvent.id))) or 0
    for path, action, body in steps:
        version = coordinator.get(url).json()["version"]
        before = audit_count(session_factory, action)
        assert coordinator.post(f"{url}/{path}", json=body(version)).status_code in (200, 201)
        with session_factory() as session:
            assert session.get_one(Response, world.ids["fr1_pet"]).version == version + 1, path
        assert audit_count(session_factory, action) == before + 1, action
    with session_factory() as session:
        assert (session.scalar(select(func.count(AuditEvent.id))) or 0) == before_events + 3


# --- scenario 10, statically: no bulk UPDATE/DELETE of responses -------------------------------

# Files allowed to run bulk statements on the response table, each with its reason.
BULK_ALLOW_LIST: dict[str, str] = {}
SOURCE_FOLDERS = ("api", "surveys", "mapping", "web", "scripts", "bench")
RAW_SQL = re.compile(r"\b(update\s+response\b|delete\s+from\s+response\b)", re.IGNORECASE)


def _response_names(tree: ast.AST) -> set[str]:
    """Local names bound to the Response model (``Response as ResponseRow`` included)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("responses.models"):
            names.update(a.asname or a.name for a in node.names if a.name == "Response")
    return names


def _is_model(node: ast.AST, names: set[str]) -> bool:
    return (isinstance(node, ast.Name) and node.id in names) or (
        isinstance(node, ast.Attribute) and node.attr == "Response"
    )


def _queries_model(node: ast.AST | None, names: set[str]) -> bool:
    """Whether a method chain starts from ``session.query(Response)``."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "query" and node.args and _is_model(node.args[0], names):
            return True
        node = node.func.value
    return False


def bulk_statements(source: str, filename: str = "<source>") -> list[str]:
    """``update(Response)``, ``delete(Response)``, ``query(Response).update/delete(...)`` and raw
    ``UPDATE response`` / ``DELETE FROM response`` SQL found in a module."""
    tree = ast.parse(source, filename=filename)
    names = _response_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func_name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            if func_name in {"update", "delete"} and node.args and _is_model(node.args[0], names):
                found.append(f"line {node.lineno}: {func_name}(Response)")
            target = node.func.value if isinstance(node.func, ast.Attribute) else None
            if func_name in {"update", "delete"} and _queries_model(target, names):
                found.append(f"line {node.lineno}: query(Response).{func_name}()")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and RAW_SQL.search(node.value)
        ):
            found.append(f"line {node.lineno}: raw SQL {node.value.strip()[:40]!r}")
    return found


def test_no_bulk_statement_bypasses_the_response_version_counter() -> None:
    offences = []
    files = [
        p
        for folder in SOURCE_FOLDERS
        if (ROOT / folder).exists()
        for p in (ROOT / folder).rglob("*.py")
    ]
    assert len(files) > 50
    for path in files:
        relative = str(path.relative_to(ROOT))
        if relative in BULK_ALLOW_LIST:
            continue
        offences += [
            f"{relative} {hit}" for hit in bulk_statements(path.read_text("utf-8"), relative)
        ]
    assert offences == [], "bulk statements skip the version counter and the audit; use the ORM"


@pytest.mark.parametrize(
    "source",
    [
        "from surveys.responses.models import Response\nsession.execute(update(Response).values(status='x'))",
        "from surveys.responses.models import Response as R\nsa.delete(R)",
        "from surveys.responses.models import Response\nsession.query(Response).filter().update({})",
        "from surveys.responses import models\nupdate(models.Response)",
        "session.execute(text('UPDATE response SET status = 1'))",
        "session.execute(text('delete from response where id = 1'))",
    ],
)
def test_the_scan_sees_a_bulk_statement(source: str) -> None:
    assert bulk_statements(source)


def test_the_scan_leaves_orm_changes_alone() -> None:
    source = (
        "from surveys.responses.models import Response\n"
        "response.status = 'withdrawn'\nsession.flush()\nselect(Response).where(Response.id == 1)\n"
        "answers.update({'a': 1})\n"
    )
    assert bulk_statements(source) == []
