"""What a centre's respondent does: open a questionnaire, save the draft, submit it.

A respondent acts through their session (:class:`RespondentSession`): its invitation names the
one campaign and the one centre they may answer for, which is the whole of their permission, so
each use case takes the session row where a staff use case takes the actor. Each records its
audit event (``response.draft.save``, ``response.finalize``, ``response.finalize.replay``) in
the same transaction, naming the respondent ``invitation:<id>``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from surveys.audit.service import record
from surveys.campaigns.lifecycle import campaign_version
from surveys.campaigns.models import RespondentSession
from surveys.campaigns.respondents import respondent_actor
from surveys.questionnaires.answers import ValidatedAnswers
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.responses.errors import InvalidAnswers, ResponseNotFound
from surveys.responses.models import Response, ResponseStatus
from surveys.responses.submission import (
    SubmitOutcome,
    save_draft,
    start_draft,
    submit,
    submit_typed,
)


@dataclass(frozen=True)
class RespondentForm:
    """A questionnaire of the respondent's campaign and their centre's response to it."""

    version: QuestionnaireVersion
    response: Response


def open_form(
    session: Session, respondent: RespondentSession, form_id: str, *, now: dt.datetime
) -> RespondentForm:
    """The questionnaire and the centre's current response, a new draft on the first visit (a
    draft holds nothing yet, so its creation is not an audit event)."""
    campaign, centre = respondent.invitation.campaign, respondent.invitation.centre
    version = campaign_version(session, campaign, form_id)
    if version is None:
        raise ResponseNotFound("This questionnaire is not part of your campaign.")
    response = start_draft(session, campaign, centre, version, now=now, in_campaign=True)
    return RespondentForm(version, response)


def _check_scope(respondent: RespondentSession, response: Response) -> None:
    invitation = respondent.invitation
    if (response.centre_id, response.campaign_id) != (invitation.centre_id, invitation.campaign_id):
        raise ResponseNotFound("No such response for this centre.")


def _record_save(
    session: Session, respondent: RespondentSession, response: Response, request_id: str | None
) -> None:
    record(
        session,
        actor=respondent_actor(respondent),
        action="response.draft.save",
        object_type="response",
        object_id=response.id,
        details={"version": response.version},
        request_id=request_id,
    )


def save_answers(
    session: Session,
    respondent: RespondentSession,
    form: RespondentForm,
    answers: dict[str, Any],
    *,
    expected_version: int,
    now: dt.datetime,
    request_id: str | None,
) -> ValidatedAnswers:
    """Save the draft as typed (see :func:`surveys.responses.submission.save_draft`); the
    problems come back for display, in the respondent's language."""
    _check_scope(respondent, form.response)
    validated = save_draft(
        session,
        form.response,
        answers,
        expected_version=expected_version,
        now=now,
        language=respondent.language,
    )
    _record_save(session, respondent, form.response, request_id)
    return validated


def submit_answers(
    session: Session,
    respondent: RespondentSession,
    form: RespondentForm,
    answers: dict[str, Any],
    *,
    expected_version: int | None,
    now: dt.datetime,
    request_id: str | None,
) -> SubmitOutcome:
    """Submit the centre's response.

    With ``expected_version`` (the form's Submit button), a draft is finalised with what was
    just typed; invalid answers are kept as the draft (a save, recorded as one) and
    :class:`InvalidAnswers` says what needs attention. Without it (the review page's "submit as
    saved"), or once the response is no longer a draft, the answers are submitted under the
    response's submission UUID: a replay of a submitted response is harmless, other answers are
    a conflict.
    """
    _check_scope(respondent, form.response)
    campaign, centre = respondent.invitation.campaign, respondent.invitation.centre
    label = respondent_actor(respondent).label
    if expected_version is not None and form.response.status == ResponseStatus.DRAFT:
        try:
            outcome = submit_typed(
                session,
                form.response,
                answers,
                version=form.version,
                campaign=campaign,
                centre=centre,
                expected_version=expected_version,
                now=now,
                actor=label,
                language=respondent.language,
            )
        except InvalidAnswers:
            _record_save(session, respondent, form.response, request_id)
            raise
    else:
        outcome = submit(
            session,
            submission_uuid=form.response.submission_uuid,
            campaign=campaign,
            centre=centre,
            version=form.version,
            answers=answers,
            now=now,
            actor=label,
            language=respondent.language,
        )
    record(
        session,
        actor=respondent_actor(respondent),
        action="response.finalize.replay" if outcome.replay else "response.finalize",
        object_type="response",
        object_id=outcome.response.id,
        details={"answers_hash": outcome.response.answers_hash},
        request_id=request_id,
    )
    return outcome
