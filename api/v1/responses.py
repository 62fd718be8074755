"""JSON routes of submitted responses: list, read, review, correct, withdraw, versions, diff.

Drafts are never listed or shown (they are the centre's until submitted). A domain lead reads the
responses of their domains only; a response outside their scope answers 404 like a missing one.
Every change after submission is a new version with a reason, and one audit event.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.auth import ResponseEditor, ResponseReader
from api.deps import DbSession
from api.problems import PROBLEM_RESPONSES
from surveys.responses import history, queries, review
from surveys.responses.models import ReviewState
from surveys.responses.queries import ResponseFilter
from surveys.responses.schemas import (
    AnswerChangeRead,
    ResponseCorrection,
    ResponsePage,
    ResponseRead,
    ResponseVersionDetail,
    ResponseVersionRead,
    ResponseWithdrawal,
    ReviewUpdate,
    VersionDiffRead,
    VisibleStatus,
)

router = APIRouter(prefix="/responses", tags=["responses"], responses=PROBLEM_RESPONSES)

ShortText = Annotated[str | None, Query(max_length=100)]


@router.get("")
def list_responses(
    session: DbSession,
    actor: ResponseReader,
    campaign: ShortText = None,
    review_state: ReviewState | None = None,
    status: VisibleStatus | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    form_id: ShortText = None,
    domain: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=queries.MAX_PER_PAGE)] = 50,
) -> ResponsePage:
    """Submitted, approved and withdrawn responses (never drafts), newest first."""
    filters = ResponseFilter(campaign, review_state, status, country, form_id, domain)
    return queries.list_responses(session, actor, filters, page=page, per_page=per_page)


@router.get("/{response_id}")
def read_response(session: DbSession, actor: ResponseReader, response_id: int) -> ResponseRead:
    """One response: answers as stored (codes), review state and comments."""
    return queries.read_response(session, actor, response_id)


@router.post("/{response_id}/review")
def review_response(
    request: Request,
    session: DbSession,
    actor: ResponseEditor,
    response_id: int,
    data: ReviewUpdate,
) -> ResponseRead:
    """Set the review state, with a comment (required for has_issues and rejected)."""
    review.review_response(
        session,
        actor,
        response_id,
        state=data.state,
        comment=data.comment,
        expected_version=data.expected_version,
        request_id=request.state.request_id,
    )
    return queries.read_response(session, actor, response_id)


@router.post("/{response_id}/corrections", status_code=201)
def correct_response(
    request: Request,
    session: DbSession,
    actor: ResponseEditor,
    response_id: int,
    data: ResponseCorrection,
    response: Response,
) -> ResponseVersionRead:
    """Correct a submitted response: a new version with the reason; the old ones are kept.
    ``expected_version`` is the response version you read (409 ``stale_version`` if older)."""
    entry = review.correct_response(
        session,
        actor,
        response_id,
        data.answers,
        expected_version=data.expected_version,
        reason=data.reason,
        request_id=request.state.request_id,
    )
    response.headers["Location"] = f"/api/v1/responses/{entry.response_id}/versions/{entry.number}"
    return ResponseVersionRead.model_validate(entry)


@router.post("/{response_id}/withdraw")
def withdraw_response(
    request: Request,
    session: DbSession,
    actor: ResponseEditor,
    response_id: int,
    data: ResponseWithdrawal,
) -> ResponseRead:
    """Take a response out of the data for a stated reason; it can never be resubmitted."""
    review.withdraw_response(
        session,
        actor,
        response_id,
        reason=data.reason,
        expected_version=data.expected_version,
        request_id=request.state.request_id,
    )
    return queries.read_response(session, actor, response_id)


@router.get("/{response_id}/versions")
def list_versions(
    session: DbSession, actor: ResponseReader, response_id: int
) -> list[ResponseVersionRead]:
    """Every submitted state of the response, oldest first, with who made it and why."""
    found = queries.visible_response(session, actor, response_id)
    return [ResponseVersionRead.model_validate(v) for v in history.list_versions(session, found)]


@router.get("/{response_id}/versions/{number}")
def read_version(
    session: DbSession, actor: ResponseReader, response_id: int, number: int
) -> ResponseVersionDetail:
    """One version with its answers."""
    found = queries.visible_response(session, actor, response_id)
    return ResponseVersionDetail.model_validate(history.get_version(session, found, number))


@router.get("/{response_id}/diff")
def diff_versions(
    session: DbSession,
    actor: ResponseReader,
    response_id: int,
    from_version: Annotated[int, Query(alias="from")],
    to_version: Annotated[int, Query(alias="to")],
) -> VersionDiffRead:
    """The answers that differ between two versions (``?from=1&to=3``)."""
    found = queries.visible_response(session, actor, response_id)
    before = history.get_version(session, found, from_version)
    after = history.get_version(session, found, to_version)
    return VersionDiffRead(
        response_id=found.id,
        from_version=before.number,
        to_version=after.number,
        changes=[
            AnswerChangeRead.model_validate(change, from_attributes=True)
            for change in history.diff_answers(before.answers, after.answers)
        ],
    )
