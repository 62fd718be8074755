"""Drafts and submissions of centres' responses, with no answer lost or duplicated.

* A draft is created with its ``submission_uuid`` (the idempotency key, as ODK's instanceID).
* Saving a draft names the version the client read; an older version is refused (409
  ``stale_version``) so two colleagues cannot silently overwrite each other.
* Submitting is idempotent: the same UUID with the same answers is a harmless replay; the same UUID
  with other answers is 409 ``submission_conflict``. The database allows one submitted response
  per campaign, centre and questionnaire (a partial unique index); a second is 409
  ``already_finalised``. Races are settled by the unique constraints, inside a savepoint, so a
  loser gets a clean 409 and never a 500.
* Every submitted state is kept as a :class:`ResponseVersion`. Drafts never count as data.

These are the rules of the data, with no actor: the respondent's use cases
(:mod:`surveys.responses.respondent`) are made of them and add who acted and the audit event;
loaders of synthetic data (demo, benchmarks, tests) call them directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from surveys.campaigns.lifecycle import ensure_open
from surveys.campaigns.models import Campaign, CampaignQuestionnaire
from surveys.errors import FieldError, InvalidInput
from surveys.questionnaires.answers import ValidatedAnswers, record_metadata, validate_answers
from surveys.questionnaires.definitions.compiled import compiled_version
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.models import Centre
from surveys.responses.errors import (
    AlreadyFinalised,
    InvalidAnswers,
    RaceLostInSnapshot,
    RequestInProgress,
    ResponseNotFound,
    StaleVersion,
    SubmissionConflict,
    Withdrawn,
)
from surveys.responses.models import (
    FINAL_STATUSES,
    Response,
    ResponseStatus,
    ResponseVersion,
    ReviewState,
)

DEVICE_ID = "accessgap-web"
"""What a form's ``deviceid`` row records: answers come through the web form or the API."""


def answers_hash(answers: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of answers: what "the same answers" means."""
    text = json.dumps(answers, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def get_response(session: Session, response_id: int, *, centre_id: int | None = None) -> Response:
    """A response by id; with ``centre_id`` only that centre's (a foreign one is not found)."""
    query = select(Response).where(Response.id == response_id)
    if centre_id is not None:
        query = query.where(Response.centre_id == centre_id)
    found = session.scalar(query.options(joinedload(Response.questionnaire_version)))
    if found is None:
        raise ResponseNotFound(f"No response {response_id}.")
    return found


def by_submission_uuid(session: Session, submission_uuid: str) -> Response | None:
    return session.scalar(
        select(Response)
        .where(Response.submission_uuid == submission_uuid)
        .options(joinedload(Response.questionnaire_version))
    )


def responses_of_centre(session: Session, campaign: Campaign, centre: Centre) -> list[Response]:
    """The centre's responses in a campaign, newest first (drafts included)."""
    return list(
        session.scalars(
            select(Response)
            .where(Response.campaign_id == campaign.id, Response.centre_id == centre.id)
            .options(joinedload(Response.questionnaire_version))
            .order_by(Response.updated_at.desc(), Response.id.desc())
        )
    )


def _check_version_in_campaign(
    session: Session, campaign: Campaign, version: QuestionnaireVersion
) -> None:
    found = session.scalar(
        select(CampaignQuestionnaire.id).where(
            CampaignQuestionnaire.campaign_id == campaign.id,
            CampaignQuestionnaire.questionnaire_version_id == version.id,
        )
    )
    if found is None:
        raise ResponseNotFound("This questionnaire is not part of the campaign.")


def start_draft(
    session: Session,
    campaign: Campaign,
    centre: Centre,
    version: QuestionnaireVersion,
    *,
    now: dt.datetime,
    in_campaign: bool = False,
) -> Response:
    """The centre's current response to a questionnaire, or a new draft with a new UUID.

    ``in_campaign``: the caller found ``version`` through the campaign, so its membership is not
    checked again.
    """
    if not in_campaign:
        _check_version_in_campaign(session, campaign, version)
    existing = _current(session, campaign, centre, version)
    if existing is not None:
        return existing
    ensure_open(campaign, now)
    draft = Response(
        submission_uuid=str(uuid.uuid4()),
        campaign_id=campaign.id,
        centre_id=centre.id,
        questionnaire_id=version.questionnaire_id,
        questionnaire_version_id=version.id,
        status=ResponseStatus.DRAFT,
        answers={},
    )
    savepoint = session.begin_nested()
    try:
        session.add(draft)
        session.flush()
        savepoint.commit()
    except IntegrityError:
        # A colleague's first visit created the draft at the same moment (uq_response_one_draft).
        savepoint.rollback()
        winner = _current(session, campaign, centre, version)
        if winner is None:  # committed after this transaction's snapshot: a new one sees it
            raise RaceLostInSnapshot(
                "This questionnaire is being opened by a colleague; try again in a moment."
            ) from None
        return winner
    return draft


def _current(
    session: Session, campaign: Campaign, centre: Centre, version: QuestionnaireVersion
) -> Response | None:
    return session.scalar(
        select(Response)
        .where(
            Response.campaign_id == campaign.id,
            Response.centre_id == centre.id,
            Response.questionnaire_id == version.questionnaire_id,
            Response.status != ResponseStatus.WITHDRAWN,
        )
        .order_by(Response.status.desc(), Response.id.desc())
        .limit(1)
    )


def _check_writable(
    session: Session, response: Response, *, expected_version: int, now: dt.datetime
) -> None:
    """A draft can be written only while it is a draft, in an open campaign, at the version the
    client read."""
    if response.status in FINAL_STATUSES:
        raise AlreadyFinalised("This questionnaire was already submitted.")
    if response.status == ResponseStatus.WITHDRAWN:
        raise Withdrawn("This response has been withdrawn and cannot be changed.")
    ensure_open(session.get_one(Campaign, response.campaign_id), now)
    if response.version != expected_version:
        raise StaleVersion.behind(response, expected_version)


def _store_draft(
    session: Session, response: Response, answers: dict[str, Any], expected_version: int
) -> None:
    savepoint = session.begin_nested()
    try:
        response.answers = answers
        session.flush()
        savepoint.commit()
    except StaleDataError as exc:
        # Another save committed between our read and our write (the version check in the
        # UPDATE matched no row): report it with the winner's time, overwrite nothing.
        savepoint.rollback()
        session.refresh(response)
        raise StaleVersion.behind(response, expected_version) from exc


def save_draft(
    session: Session,
    response: Response,
    answers: dict[str, Any],
    *,
    expected_version: int,
    now: dt.datetime,
    language: str | None = None,
) -> ValidatedAnswers:
    """Store what the respondent typed, as typed, and say what needs attention.

    Nothing typed is refused here: a draft keeps invalid values too, so nothing is lost; the
    problems come back for display and block only the submission.
    """
    _check_writable(session, response, expected_version=expected_version, now=now)
    version = session.get_one(QuestionnaireVersion, response.questionnaire_version_id)
    validated = validate_answers(
        compiled_version(version), answers, language=language, partial=True
    )
    _store_draft(session, response, answers, expected_version)
    return validated


@dataclass(frozen=True)
class SubmitOutcome:
    response: Response
    replay: bool


def submit_typed(
    session: Session,
    response: Response,
    answers: dict[str, Any],
    *,
    version: QuestionnaireVersion,
    campaign: Campaign,
    centre: Centre,
    expected_version: int,
    now: dt.datetime,
    actor: str,
    language: str | None = None,
) -> SubmitOutcome:
    """The form's Submit button: finalise the draft with what the respondent has just typed.

    The answers are validated once. Valid, they become the submitted response in one write (no
    draft save first); invalid, they are kept as the draft, as typed, and :class:`InvalidAnswers`
    says what needs attention. A stale page is refused (409) as a save would be. ``actor`` is
    the label the first version keeps.
    """
    _check_writable(session, response, expected_version=expected_version, now=now)
    validated = validate_answers(compiled_version(version), answers, language=language)
    if not validated.ok:
        _store_draft(session, response, answers, expected_version)
        raise InvalidAnswers(validated)
    return _finalise(session, response, validated, campaign, centre, version, now, actor)


def _replay_or_conflict(existing: Response, digest: str) -> SubmitOutcome:
    if existing.status == ResponseStatus.WITHDRAWN:
        raise Withdrawn("This response has been withdrawn and cannot be resubmitted.")
    if existing.status in FINAL_STATUSES:
        if existing.answers_hash == digest:
            return SubmitOutcome(existing, replay=True)
        raise SubmissionConflict(
            "A response with this ID was already finalised with different answers."
        )
    raise RequestInProgress("This submission is being processed; try again in a moment.")


def submit(
    session: Session,
    *,
    submission_uuid: str,
    campaign: Campaign,
    centre: Centre,
    version: QuestionnaireVersion,
    answers: dict[str, Any],
    now: dt.datetime,
    actor: str,
    language: str | None = None,
) -> SubmitOutcome:
    """Finalise a response, idempotently (see the module docstring). ``actor`` is the label the
    first version keeps."""
    try:
        uuid.UUID(submission_uuid)
    except ValueError as exc:
        raise InvalidInput(
            "submission_uuid must be a UUID.",
            errors=[FieldError(("submission_uuid",), "is not a UUID")],
        ) from exc
    validated = validate_answers(compiled_version(version), answers, language=language)
    digest = answers_hash(validated.answers)
    # The response alone: its questionnaire version is the one given (joining it would decode
    # the whole definition again, a twelfth of a submission's CPU time in the profile).
    existing = session.scalar(select(Response).where(Response.submission_uuid == submission_uuid))
    if existing is not None and existing.status != ResponseStatus.DRAFT:
        return _replay_or_conflict(existing, digest)
    if existing is not None and (
        existing.centre_id != centre.id or existing.campaign_id != campaign.id
    ):
        raise ResponseNotFound("No such response for this centre.")
    ensure_open(campaign, now)
    _check_version_in_campaign(session, campaign, version)
    if not validated.ok:
        raise InvalidAnswers(validated)
    response = existing or Response(
        submission_uuid=submission_uuid,
        campaign_id=campaign.id,
        centre_id=centre.id,
        questionnaire_id=version.questionnaire_id,
        questionnaire_version_id=version.id,
    )
    return _finalise(session, response, validated, campaign, centre, version, now, actor)


def _finalise(
    session: Session,
    response: Response,
    validated: ValidatedAnswers,
    campaign: Campaign,
    centre: Centre,
    version: QuestionnaireVersion,
    now: dt.datetime,
    actor: str,
) -> SubmitOutcome:
    """Write the submitted state and its first version; a lost race is settled by the unique
    constraints inside a savepoint (see the module docstring)."""
    digest = answers_hash(validated.answers)
    submission_uuid = response.submission_uuid
    # Metadata rows (start, end, today, deviceid, username) are recorded here, not asked; the
    # digest stays that of the answers given, so a replayed submission is still recognised.
    recorded = record_metadata(
        compiled_version(version),
        start=response.created_at or now,
        end=now,
        device=DEVICE_ID,
        user=actor,
    )
    answers = {**validated.answers, **recorded}
    savepoint = session.begin_nested()
    try:
        response.questionnaire_version_id = version.id
        response.answers = answers
        response.answers_hash = digest
        response.status = ResponseStatus.SUBMITTED
        response.review_state = ReviewState.RECEIVED
        response.submitted_at = now
        session.add(response)
        if response.id is None:  # a submission without a draft: its id comes from the insert
            session.flush()
        session.add(
            ResponseVersion(
                response_id=response.id,
                number=1,
                status=ResponseStatus.SUBMITTED,
                answers=answers,
                answers_hash=digest,
                actor=actor,
            )
        )
        session.flush()
        savepoint.commit()
    except (IntegrityError, StaleDataError):
        savepoint.rollback()
        return _after_race(session, submission_uuid, digest, campaign, centre, version)
    return SubmitOutcome(response, replay=False)


def _after_race(
    session: Session,
    submission_uuid: str,
    digest: str,
    campaign: Campaign,
    centre: Centre,
    version: QuestionnaireVersion,
) -> SubmitOutcome:
    """Another request won a race: replay its result, or explain why this one cannot win."""
    session.expire_all()
    existing = by_submission_uuid(session, submission_uuid)
    if existing is not None and existing.status != ResponseStatus.DRAFT:
        return _replay_or_conflict(existing, digest)
    final = session.scalar(
        select(Response.id).where(
            Response.campaign_id == campaign.id,
            Response.centre_id == centre.id,
            Response.questionnaire_id == version.questionnaire_id,
            Response.status.in_(FINAL_STATUSES),
        )
    )
    if final is not None:
        raise AlreadyFinalised(
            "This centre has already submitted this questionnaire in this campaign."
        )
    raise RaceLostInSnapshot("This submission is being processed; try again in a moment.")
