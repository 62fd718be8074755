"""Staff work on submitted responses: corrections kept as versions, and the review, correct
and withdraw use cases with their permission check and audit event."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.audit.models import AuditEvent
from surveys.campaigns.models import Campaign
from surveys.errors import InvalidInput
from surveys.policy import PermissionDenied, staff_actor
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.models import Centre
from surveys.responses import review
from surveys.responses.errors import ResponseNotFound, StaleVersion
from surveys.responses.history import list_comments, list_versions
from surveys.responses.models import Response, ResponseStatus, ReviewState
from surveys.responses.submission import start_draft, submit
from tests.builders import make_campaign, make_centre, make_published_form

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
GOOD = {"has_pet": "yes", "units": "2", "notes": "Two scanners"}
COORDINATOR = staff_actor(user_id=7, role="coordinator")
DOMAIN_LEAD = staff_actor(user_id=8, role="domain_lead", domains=["nuclear_medicine"])


@pytest.fixture
def submitted(session: Session) -> Response:
    centre = make_centre(session)
    version = make_published_form(session)
    campaign = make_campaign(session, centres=[centre], versions=[version])
    return submitted_response(session, campaign, centre, version)


def submitted_response(
    session: Session, campaign: Campaign, centre: Centre, version: QuestionnaireVersion
) -> Response:
    return submit(
        session,
        submission_uuid=str(uuid.uuid4()),
        campaign=campaign,
        centre=centre,
        version=version,
        answers=GOOD,
        now=NOW,
        actor="invitation:1",
    ).response


def last_event(session: Session, action: str) -> AuditEvent:
    found = session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    ).first()
    assert found is not None, action
    return found


class TestCorrections:
    def test_a_correction_adds_a_version_with_a_reason(
        self, session: Session, submitted: Response
    ) -> None:
        entry = review.correct(
            session,
            submitted,
            {**GOOD, "units": "4"},
            expected_version=submitted.version,
            reason="Typo in units",
            actor="coordinator:7",
        )
        versions = list_versions(session, submitted)
        assert [v.number for v in versions] == [1, 2]
        assert versions[0].answers["units"] == 2
        assert entry.answers["units"] == 4
        assert entry.reason == "Typo in units"
        with pytest.raises(InvalidInput, match="Say why"):
            review.correct(
                session,
                submitted,
                GOOD,
                expected_version=submitted.version,
                reason=" ",
                actor="coordinator:7",
            )


class TestUseCases:
    def test_a_review_is_recorded_with_its_comment(
        self, session: Session, submitted: Response
    ) -> None:
        found = review.review_response(
            session,
            COORDINATOR,
            submitted.id,
            state="has_issues",
            comment="Units look high.",
            expected_version=submitted.version,
            request_id="req-review",
        )
        assert found.review_state == ReviewState.HAS_ISSUES
        [note] = list_comments(session, found)
        assert note.author == "user:7"
        event = last_event(session, "response.review")
        assert (event.object_type, event.object_id) == ("response", str(found.id))
        assert (event.actor, event.request_id) == ("user:7", "req-review")
        assert event.details == {
            "from": "received",
            "to": "has_issues",
            "comment_id": note.id,
            "version": found.version,
        }

    def test_a_correction_is_recorded_with_both_hashes(
        self, session: Session, submitted: Response
    ) -> None:
        before = submitted.answers_hash
        entry = review.correct_response(
            session,
            COORDINATOR,
            submitted.id,
            {**GOOD, "units": "3"},
            expected_version=submitted.version,
            reason="Checked by phone",
            request_id=None,
        )
        assert entry.actor == "user:7"
        event = last_event(session, "response.update.version")
        assert event.details == {
            "reason": "Checked by phone",
            "number": 2,
            "before_hash": before,
            "after_hash": entry.answers_hash,
            "version": submitted.version,
        }

    def test_a_withdrawal_is_recorded_and_a_stale_one_is_not(
        self, session: Session, submitted: Response
    ) -> None:
        read = submitted.version
        with pytest.raises(StaleVersion):
            review.withdraw_response(
                session,
                COORDINATOR,
                submitted.id,
                reason="Duplicate",
                expected_version=read - 1,
                request_id=None,
            )
        assert (
            session.scalar(select(AuditEvent).where(AuditEvent.action == "response.withdraw"))
            is None
        )
        entry = review.withdraw_response(
            session,
            COORDINATOR,
            submitted.id,
            reason="Duplicate",
            expected_version=read,
            request_id=None,
        )
        assert submitted.status == ResponseStatus.WITHDRAWN
        event = last_event(session, "response.withdraw")
        assert event.details == {"reason": "Duplicate", "number": 2, "version": submitted.version}
        assert entry.status == ResponseStatus.WITHDRAWN

    def test_an_actor_who_may_not_edit_changes_nothing(
        self, session: Session, submitted: Response
    ) -> None:
        with pytest.raises(PermissionDenied):
            review.review_response(
                session, DOMAIN_LEAD, submitted.id, state="approved", request_id=None
            )
        with pytest.raises(PermissionDenied):
            review.correct_response(
                session,
                DOMAIN_LEAD,
                submitted.id,
                GOOD,
                expected_version=submitted.version,
                reason="x",
                request_id=None,
            )
        with pytest.raises(PermissionDenied):
            review.withdraw_response(
                session,
                DOMAIN_LEAD,
                submitted.id,
                reason="x",
                expected_version=submitted.version,
                request_id=None,
            )
        assert (submitted.status, submitted.review_state) == ("submitted", "received")
        assert session.scalars(select(AuditEvent).where(AuditEvent.actor == "user:8")).all() == []

    def test_a_draft_is_not_found(self, session: Session) -> None:
        centre = make_centre(session)
        version = make_published_form(session)
        campaign = make_campaign(session, centres=[centre], versions=[version])
        draft = start_draft(session, campaign, centre, version, now=dt.datetime.now(dt.UTC))
        with pytest.raises(ResponseNotFound):
            review.review_response(
                session, COORDINATOR, draft.id, state="approved", request_id=None
            )
