"""Metadata rows (start, end, today, deviceid, username, email): recorded when a response is
submitted, never taken from the answers sent; the answers' hash and the idempotent replay do not
depend on them, and a coordinator's correction keeps them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from surveys.campaigns.models import Campaign
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.models import Centre
from surveys.responses import errors, review, submission
from surveys.responses.submission import DEVICE_ID, SubmitOutcome, answers_hash
from tests.builders import make_campaign, make_centre, make_published_form

METADATA_FORM = """
| survey |
|        | type              | name    | label::en | required |
|        | start             | started |           |          |
|        | end               | ended   |           |          |
|        | today             | day     |           |          |
|        | deviceid          | device  |           |          |
|        | username          | user    |           |          |
|        | email             | mail    |           |          |
|        | select_one yes_no | has_pet | PET/CT?   | yes      |
|        | integer           | units   | Units     |          |
| choices |
|         | list_name | name | label::en |
|         | yes_no    | yes  | Yes       |
|         | yes_no    | no   | No        |
| settings |
|          | form_id  | version | title::en | domain           |
|          | pet_meta | 1       | PET       | nuclear_medicine |
"""
NOW = dt.datetime(2026, 11, 29, 23, 59, 5, 123456, tzinfo=dt.UTC)
GIVEN = {"has_pet": "yes", "units": "2"}
TYPED = {"has_pet": "yes", "units": 2}
RECORDED = {
    "ended": "2026-11-29T23:59:05+00:00",
    "day": "2026-11-29",
    "device": DEVICE_ID,
    "user": "invitation:41",
    "mail": "",
}

Setup = tuple[Campaign, Centre, QuestionnaireVersion]


@pytest.fixture
def setup(session: Session) -> Setup:
    centre = make_centre(session)
    version = make_published_form(session, METADATA_FORM)
    return make_campaign(session, centres=[centre], versions=[version]), centre, version


def submit(
    session: Session, setup: Setup, answers: dict[str, Any], key: str, now: dt.datetime = NOW
) -> SubmitOutcome:
    campaign, centre, version = setup
    return submission.submit(
        session,
        submission_uuid=key,
        campaign=campaign,
        centre=centre,
        version=version,
        answers=answers,
        now=now,
        actor="invitation:41",
    )


def test_metadata_is_recorded_at_submission_and_never_taken_from_the_answers(
    session: Session, setup: Setup
) -> None:
    campaign, centre, version = setup
    draft = submission.start_draft(session, campaign, centre, version, now=NOW)
    sent = {**GIVEN, "device": "my-phone", "ended": "1999-01-01T00:00:00", "user": "someone"}
    outcome = submission.submit_typed(
        session,
        draft,
        sent,
        version=version,
        campaign=campaign,
        centre=centre,
        expected_version=draft.version,
        now=NOW,
        actor="invitation:41",
    )
    session.expire_all()  # read back what the database holds
    stored = outcome.response.answers
    assert stored == {**TYPED, **RECORDED, "started": stored["started"]}
    assert stored["started"] == draft.created_at.isoformat(timespec="seconds")
    assert outcome.response.answers_hash == answers_hash(TYPED)


def test_a_replay_is_recognised_whatever_metadata_it_carries(
    session: Session, setup: Setup
) -> None:
    key = str(uuid.uuid4())
    first = submit(session, setup, GIVEN, key)
    assert not first.replay
    stored = dict(first.response.answers)
    assert {k: stored[k] for k in RECORDED} == RECORDED
    assert stored["started"] == "2026-11-29T23:59:05+00:00"  # no draft: it began at submission
    later = NOW + dt.timedelta(days=2)
    again = submit(session, setup, dict(GIVEN), key, later)
    echoed = submit(session, setup, stored, key, later)  # a client sends back what it read
    assert again.replay
    assert echoed.replay
    assert echoed.response.id == first.response.id
    assert again.response.answers == stored  # the replay recorded nothing new
    with pytest.raises(errors.SubmissionConflict):
        submit(session, setup, {**GIVEN, "units": "3"}, key, later)


def test_a_correction_keeps_the_recorded_metadata(session: Session, setup: Setup) -> None:
    response = submit(session, setup, GIVEN, str(uuid.uuid4())).response
    recorded = {k: v for k, v in response.answers.items() if k not in TYPED}
    entry = review.correct(
        session,
        response,
        {"has_pet": "yes", "units": "3", "started": "2020-01-01T00:00:00+00:00"},
        expected_version=response.version,
        reason="Three units, confirmed by the centre",
        actor="user:7",
    )
    assert entry.answers == {"has_pet": "yes", "units": 3, **recorded}
    assert response.answers == entry.answers
    assert entry.answers_hash == answers_hash({"has_pet": "yes", "units": 3})
