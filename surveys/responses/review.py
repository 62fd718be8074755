"""What staff do with a submitted response: review it (with comments), correct it (a new
version with a reason), withdraw it. Drafts are the centre's and are never touched here.

The use cases (:func:`review_response`, :func:`correct_response`, :func:`withdraw_response`)
check that the actor may edit responses, find the response within the actor's scope (one
outside it is not found, as a missing one), apply the rule below and record one audit event in
the same transaction. The rules (:func:`review`, :func:`correct`, ...) take no actor; loaders of
test data use them to put responses in a state.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from surveys.audit.service import record
from surveys.errors import Conflict, FieldError, InvalidInput
from surveys.policy import Actor, Permission, authorize
from surveys.questionnaires.answers import validate_answers
from surveys.questionnaires.definitions.compiled import compiled_version
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.responses.errors import InvalidAnswers, StaleVersion, Withdrawn
from surveys.responses.history import list_versions
from surveys.responses.models import (
    FINAL_STATUSES,
    Response,
    ResponseComment,
    ResponseStatus,
    ResponseVersion,
    ReviewState,
)
from surveys.responses.queries import visible_response
from surveys.responses.submission import answers_hash

REVIEW_STATES = tuple(ReviewState)
COMMENT_REQUIRED_STATES = (ReviewState.HAS_ISSUES, ReviewState.REJECTED)
COMMENT_LIMIT = 5000


# --- the rules --------------------------------------------------------------------------------


def review(session: Session, response: Response, state: str) -> Response:
    """Set the review state (received, has issues, approved, rejected)."""
    if state not in REVIEW_STATES:
        raise InvalidInput(
            f"Unknown review state {state!r}; use one of {', '.join(REVIEW_STATES)}."
        )
    if response.status not in FINAL_STATUSES:
        raise Conflict("Only submitted responses are reviewed.")
    response.review_state = state
    response.status = (
        ResponseStatus.APPROVED if state == ReviewState.APPROVED else ResponseStatus.SUBMITTED
    )
    session.flush()
    return response


def review_with_comment(
    session: Session,
    response: Response,
    state: str,
    comment: str,
    *,
    author: str,
    expected_version: int | None = None,
) -> tuple[Response, ResponseComment | None]:
    """Set the review state and keep the reviewer's comment (required for issues/rejection)."""
    text = comment.strip()
    if state in COMMENT_REQUIRED_STATES and not text:
        raise InvalidInput(
            "Say what the issue is, so the centre and other reviewers know.",
            errors=[FieldError(("comment",), "a comment is required for this review state")],
        )
    if len(text) > COMMENT_LIMIT or "\x00" in text:
        raise InvalidInput(
            "The comment cannot be stored.",
            errors=[
                FieldError(
                    ("comment",),
                    "contains a NUL character"
                    if "\x00" in text
                    else f"is longer than {COMMENT_LIMIT} characters",
                )
            ],
        )
    if expected_version is not None and response.version != expected_version:
        raise StaleVersion.behind(response, expected_version)
    review(session, response, state)
    note = None
    if text:
        note = ResponseComment(
            response_id=response.id, review_state=state, body=text, author=author
        )
        session.add(note)
        session.flush()
    return response, note


def correct(
    session: Session,
    response: Response,
    answers: dict[str, Any],
    *,
    expected_version: int,
    reason: str,
    actor: str,
) -> ResponseVersion:
    """A correction of a submitted response: a new version, the old one kept."""
    if response.status not in FINAL_STATUSES:
        raise Conflict("Only submitted responses are corrected; drafts are edited by the centre.")
    if not reason.strip():
        raise InvalidInput(
            "Say why the answers are corrected.",
            errors=[FieldError(("reason",), "a reason is required")],
        )
    if response.version != expected_version:
        raise StaleVersion.behind(response, expected_version)
    version = session.get_one(QuestionnaireVersion, response.questionnaire_version_id)
    validated = validate_answers(compiled_version(version), answers, keep_recorded=True)
    if not validated.ok:
        raise InvalidAnswers(validated)
    number = 1 + len(list_versions(session, response))
    digest = answers_hash(validated.answers)
    response.answers = validated.answers
    response.answers_hash = digest
    entry = ResponseVersion(
        response_id=response.id,
        number=number,
        status=response.status,
        answers=validated.answers,
        answers_hash=digest,
        actor=actor,
        reason=reason.strip(),
    )
    session.add(entry)
    session.flush()
    return entry


def withdraw(session: Session, response: Response) -> Response:
    """Take a response out of the data; it can never be submitted again."""
    response.status = ResponseStatus.WITHDRAWN
    session.flush()
    return response


def withdraw_with_reason(
    session: Session, response: Response, *, reason: str, actor: str, expected_version: int
) -> ResponseVersion:
    """Withdraw a submitted response for a stated reason; the withdrawal is kept as a version."""
    if response.status == ResponseStatus.WITHDRAWN:
        raise Withdrawn("This response is already withdrawn.")
    if response.status not in FINAL_STATUSES:
        raise Conflict("Only submitted responses are withdrawn; drafts belong to the centre.")
    if not reason.strip():
        raise InvalidInput(
            "Say why the response is withdrawn.",
            errors=[FieldError(("reason",), "a reason is required")],
        )
    if response.version != expected_version:
        raise StaleVersion.behind(response, expected_version)
    withdraw(session, response)
    entry = ResponseVersion(
        response_id=response.id,
        number=1 + len(list_versions(session, response)),
        status=ResponseStatus.WITHDRAWN,
        answers=response.answers,
        answers_hash=response.answers_hash or answers_hash(response.answers),
        actor=actor,
        reason=reason.strip(),
    )
    session.add(entry)
    session.flush()
    return entry


# --- use cases --------------------------------------------------------------------------------


def _record(
    session: Session,
    actor: Actor,
    action: str,
    response: Response,
    details: dict[str, Any],
    request_id: str | None,
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        object_type="response",
        object_id=response.id,
        details=details,
        request_id=request_id,
    )


def review_response(
    session: Session,
    actor: Actor,
    response_id: int,
    *,
    state: str,
    comment: str = "",
    expected_version: int | None = None,
    request_id: str | None,
) -> Response:
    """Set the review state, with a comment (required for has_issues and rejected);
    ``expected_version``, when given, refuses a decision taken on an older version."""
    authorize(actor, Permission.RESPONSES_EDIT)
    found = visible_response(session, actor, response_id)
    previous = found.review_state
    _, note = review_with_comment(
        session, found, state, comment, author=actor.label, expected_version=expected_version
    )
    details = {
        "from": previous,
        "to": found.review_state,
        "comment_id": note.id if note else None,
        "version": found.version,
    }
    _record(session, actor, "response.review", found, details, request_id)
    return found


def correct_response(
    session: Session,
    actor: Actor,
    response_id: int,
    answers: dict[str, Any],
    *,
    expected_version: int,
    reason: str,
    request_id: str | None,
) -> ResponseVersion:
    """Correct a submitted response with a reason: a new version, the old ones kept
    (``expected_version`` is the response version the corrector read)."""
    authorize(actor, Permission.RESPONSES_EDIT)
    found = visible_response(session, actor, response_id)
    before = found.answers_hash
    entry = correct(
        session,
        found,
        answers,
        expected_version=expected_version,
        reason=reason,
        actor=actor.label,
    )
    details = {
        "reason": entry.reason,
        "number": entry.number,
        "before_hash": before,
        "after_hash": entry.answers_hash,
        "version": found.version,
    }
    _record(session, actor, "response.update.version", found, details, request_id)
    return entry


def withdraw_response(
    session: Session,
    actor: Actor,
    response_id: int,
    *,
    reason: str,
    expected_version: int,
    request_id: str | None,
) -> ResponseVersion:
    """Take a response out of the data for a stated reason; it can never be resubmitted."""
    authorize(actor, Permission.RESPONSES_EDIT)
    found = visible_response(session, actor, response_id)
    entry = withdraw_with_reason(
        session, found, reason=reason, actor=actor.label, expected_version=expected_version
    )
    details = {"reason": entry.reason, "number": entry.number, "version": found.version}
    _record(session, actor, "response.withdraw", found, details, request_id)
    return entry
