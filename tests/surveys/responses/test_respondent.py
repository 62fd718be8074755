"""The respondent's use cases: opening the link, saving, submitting, each recorded in the audit
log under the invitation, and limited to the invitation's centre."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.audit.models import AuditEvent
from surveys.campaigns.invitations import issue_invitation
from surveys.campaigns.models import RespondentSession
from surveys.campaigns.respondents import find_session, open_session
from surveys.responses import respondent
from surveys.responses.errors import InvalidAnswers, ResponseNotFound
from surveys.responses.models import ResponseStatus
from tests.builders import make_campaign, make_centre, make_published_form

GOOD = {"has_pet": "yes", "units": "2", "notes": "Two scanners"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def rows(session: Session) -> tuple[RespondentSession, RespondentSession]:
    """The sessions of two centres' respondents in one campaign."""
    centres = [make_centre(session, name=f"Centre {n}") for n in range(2)]
    campaign = make_campaign(session, centres=centres, versions=[make_published_form(session)])
    opened = []
    for centre in centres:
        token = issue_invitation(session, campaign, centre).token
        raw, _ = open_session(session, token, now=now(), request_id=f"open-{centre.id}")
        row = find_session(session, raw, now=now())  # as every respondent request loads it
        assert row is not None
        opened.append(row)
    return opened[0], opened[1]


def actions(session: Session) -> list[tuple[str, str | None, str | None]]:
    return [
        (e.action, e.actor, e.object_id)
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.actor.startswith("invitation:"))
            .order_by(AuditEvent.id)
        )
    ]


def test_opening_the_link_is_recorded(
    session: Session, rows: tuple[RespondentSession, RespondentSession]
) -> None:
    mine, other = rows
    assert actions(session) == [
        ("invitation.open", f"invitation:{mine.invitation_id}", str(mine.invitation_id)),
        ("invitation.open", f"invitation:{other.invitation_id}", str(other.invitation_id)),
    ]


def test_saves_and_submissions_are_recorded_under_the_invitation(
    session: Session, rows: tuple[RespondentSession, RespondentSession]
) -> None:
    mine, _ = rows
    who = f"invitation:{mine.invitation_id}"
    form = respondent.open_form(session, mine, "pet_small", now=now())
    validated = respondent.save_answers(
        session, mine, form, {"units": "many"}, expected_version=1, now=now(), request_id="s1"
    )
    assert [e.code for e in validated.errors] == ["type"]  # kept as typed, said back
    with pytest.raises(InvalidAnswers):
        respondent.submit_answers(
            session,
            mine,
            form,
            {"has_pet": "yes", "units": "-1"},
            expected_version=form.response.version,
            now=now(),
            request_id="s2",
        )
    outcome = respondent.submit_answers(
        session,
        mine,
        form,
        GOOD,
        expected_version=form.response.version,
        now=now(),
        request_id="s3",
    )
    assert outcome.response.status == ResponseStatus.SUBMITTED
    replay = respondent.submit_answers(
        session, mine, form, GOOD, expected_version=None, now=now(), request_id="s4"
    )
    assert replay.replay
    response_id = str(outcome.response.id)
    assert actions(session)[2:] == [
        ("response.draft.save", who, response_id),
        ("response.draft.save", who, response_id),  # the invalid submission kept as the draft
        ("response.finalize", who, response_id),
        ("response.finalize.replay", who, response_id),
    ]
    finalize = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "response.finalize")
    ).one()
    assert finalize.details == {"answers_hash": outcome.response.answers_hash}
    assert finalize.request_id == "s3"


def test_a_respondent_cannot_write_another_centres_response(
    session: Session, rows: tuple[RespondentSession, RespondentSession]
) -> None:
    mine, other = rows
    theirs = respondent.open_form(session, other, "pet_small", now=now())
    before = len(actions(session))
    with pytest.raises(ResponseNotFound):
        respondent.save_answers(
            session, mine, theirs, GOOD, expected_version=1, now=now(), request_id=None
        )
    with pytest.raises(ResponseNotFound):
        respondent.submit_answers(
            session, mine, theirs, GOOD, expected_version=None, now=now(), request_id=None
        )
    assert theirs.response.status == ResponseStatus.DRAFT
    assert theirs.response.answers == {}
    assert len(actions(session)) == before
