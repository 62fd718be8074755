"""Drafts and idempotent submissions: replays, conflicts, stale saves, closed campaigns."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.campaigns.errors import CampaignClosed
from surveys.campaigns.lifecycle import close_campaign
from surveys.campaigns.models import Campaign
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.models import Centre
from surveys.responses import errors, submission
from surveys.responses.models import FINAL_STATUSES, Response, ResponseStatus, ResponseVersion
from surveys.responses.review import withdraw
from tests.builders import BUILDER, make_campaign, make_centre, make_published_form

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
GOOD = {"has_pet": "yes", "units": "2", "notes": "Two scanners"}


@pytest.fixture
def setup(session: Session) -> tuple[Campaign, Centre, QuestionnaireVersion]:
    centre = make_centre(session)
    version = make_published_form(session)
    return make_campaign(session, centres=[centre], versions=[version]), centre, version


def submit(
    session: Session,
    setup: tuple[Campaign, Centre, QuestionnaireVersion],
    answers: dict[str, object],
    submission_uuid: str,
) -> submission.SubmitOutcome:
    campaign, centre, version = setup
    return submission.submit(
        session,
        submission_uuid=submission_uuid,
        campaign=campaign,
        centre=centre,
        version=version,
        answers=answers,
        now=NOW,
        actor="centre:1",
    )


def finals(session: Session, centre: Centre) -> int:
    return (
        session.scalar(
            select(func.count(Response.id)).where(
                Response.centre_id == centre.id, Response.status.in_(FINAL_STATUSES)
            )
        )
        or 0
    )


class TestSubmit:
    def test_identical_replays_are_harmless(self, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
        key = str(uuid.uuid4())
        first = submit(session, setup, GOOD, key)
        assert not first.replay
        assert first.response.answers == {"has_pet": "yes", "units": 2, "notes": "Two scanners"}
        for _ in range(4):
            again = submit(session, setup, dict(GOOD), key)
            assert again.replay
            assert again.response.id == first.response.id
        assert finals(session, setup[1]) == 1
        assert (
            session.scalar(
                select(func.count(ResponseVersion.id)).where(
                    ResponseVersion.response_id == first.response.id
                )
            )
            == 1
        )

    def test_same_uuid_with_other_answers_is_a_conflict_and_changes_nothing(
        self,
        session: Session,
        setup,  # type: ignore[no-untyped-def]
    ) -> None:
        key = str(uuid.uuid4())
        stored = submit(session, setup, GOOD, key).response
        before = stored.answers_hash
        with pytest.raises(errors.SubmissionConflict, match="already finalised with different"):
            submit(session, setup, {**GOOD, "units": "3"}, key)
        session.refresh(stored)
        assert stored.answers_hash == before

    def test_one_submitted_response_per_centre_and_questionnaire(
        self, session: Session, setup
    ) -> None:  # type: ignore[no-untyped-def]
        submit(session, setup, GOOD, str(uuid.uuid4()))
        with pytest.raises(errors.AlreadyFinalised):
            submit(session, setup, {**GOOD, "units": "5"}, str(uuid.uuid4()))
        assert finals(session, setup[1]) == 1

    def test_invalid_answers_name_each_field(self, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(errors.InvalidAnswers) as caught:
            submit(session, setup, {"has_pet": "yes", "units": "-1"}, str(uuid.uuid4()))
        assert [(e.loc, e.code) for e in caught.value.errors] == [(("units",), "constraint")]
        assert finals(session, setup[1]) == 0

    def test_a_closed_campaign_refuses_and_keeps_the_draft(self, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
        campaign, centre, version = setup
        draft = submission.start_draft(session, campaign, centre, version, now=NOW)
        submission.save_draft(
            session,
            draft,
            {"notes": "typed before closing"},
            expected_version=draft.version,
            now=NOW,
        )
        close_campaign(session, BUILDER, campaign, request_id=None)
        with pytest.raises(CampaignClosed):
            submit(session, setup, GOOD, draft.submission_uuid)
        with pytest.raises(CampaignClosed):
            submission.save_draft(
                session, draft, {"notes": "more"}, expected_version=draft.version, now=NOW
            )
        session.refresh(draft)
        assert draft.answers == {"notes": "typed before closing"}
        assert draft.status == ResponseStatus.DRAFT

    def test_a_withdrawn_response_is_never_resurrected(self, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
        key = str(uuid.uuid4())
        response = submit(session, setup, GOOD, key).response
        withdraw(session, response)
        with pytest.raises(errors.Withdrawn, match="withdrawn and cannot be resubmitted"):
            submit(session, setup, GOOD, key)


class TestDrafts:
    def test_saves_keep_what_was_typed_and_bump_the_version(self, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
        campaign, centre, version = setup
        draft = submission.start_draft(session, campaign, centre, version, now=NOW)
        assert uuid.UUID(draft.submission_uuid)
        last: dict[str, object] = {}
        for n in range(1, 101):
            last = {"units": str(n), "notes": f"save {n}"} if n % 2 else {"units": "x" * n}
            result = submission.save_draft(
                session, draft, last, expected_version=draft.version, now=NOW
            )
        assert draft.version == 101
        assert draft.answers == last
        assert [e.code for e in result.errors] == ["type"]
        assert submission.start_draft(session, campaign, centre, version, now=NOW).id == draft.id

    def test_a_stale_save_is_refused_and_nothing_is_overwritten(
        self, session: Session, setup
    ) -> None:  # type: ignore[no-untyped-def]
        campaign, centre, version = setup
        draft = submission.start_draft(session, campaign, centre, version, now=NOW)
        read_by_both = draft.version
        submission.save_draft(
            session, draft, {"notes": "A"}, expected_version=read_by_both, now=NOW
        )
        with pytest.raises(errors.StaleVersion, match=f"your copy \\(version {read_by_both}\\)"):
            submission.save_draft(
                session, draft, {"notes": "B"}, expected_version=read_by_both, now=NOW
            )
        assert draft.answers == {"notes": "A"}

    def test_submitting_a_draft_keeps_its_uuid(self, session: Session, setup) -> None:  # type: ignore[no-untyped-def]
        campaign, centre, version = setup
        draft = submission.start_draft(session, campaign, centre, version, now=NOW)
        outcome = submit(session, setup, GOOD, draft.submission_uuid)
        assert outcome.response.id == draft.id
        assert outcome.response.status == ResponseStatus.SUBMITTED
