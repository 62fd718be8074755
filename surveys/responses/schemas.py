"""Schemas of submitted responses as staff see them: lists, review, corrections, versions, and
the completion of a campaign."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from surveys.registry.schemas import CleanText
from surveys.responses.completion import Completion, CompletionRow
from surveys.responses.models import ResponseStatus, ReviewState
from surveys.schemas import Schema

VisibleStatus = Literal[ResponseStatus.SUBMITTED, ResponseStatus.APPROVED, ResponseStatus.WITHDRAWN]
Reason = Annotated[CleanText, StringConstraints(min_length=1, max_length=2000)]
Comment = Annotated[CleanText, StringConstraints(max_length=5000)]


class ResponseSummary(Schema):
    """One submitted (or approved, or withdrawn) response in a list. Drafts are never listed."""

    id: int
    campaign: str
    centre_id: str
    centre_name: str
    country: str
    form_id: str
    questionnaire_version: str
    domain: str | None
    status: VisibleStatus
    review_state: ReviewState | None
    version: int
    submitted_at: dt.datetime | None
    updated_at: dt.datetime
    comments: int


class ResponsePage(Schema):
    items: list[ResponseSummary]
    total: int
    page: int
    per_page: int


class CommentRead(Schema):
    id: int
    review_state: ReviewState | None
    body: str
    author: str
    created_at: dt.datetime


class ResponseRead(ResponseSummary):
    """A response with its answers (codes, as stored) and its review comments."""

    answers: dict[str, Any]
    answers_hash: str | None
    review_comments: list[CommentRead]


class ResponseVersionRead(Schema):
    number: int
    status: str
    answers_hash: str
    actor: str
    reason: str | None
    created_at: dt.datetime


class ResponseVersionDetail(ResponseVersionRead):
    answers: dict[str, Any]


class ReviewUpdate(Schema):
    """A review decision; a comment is required for ``has_issues`` and ``rejected``."""

    state: ReviewState
    comment: Comment = ""
    expected_version: int | None = Field(
        default=None, description="the version you read; an older one answers 409"
    )


class ResponseCorrection(Schema):
    """Corrected answers (all of them, as a whole), with the reason and the version you read."""

    answers: dict[str, Any]
    expected_version: int
    reason: Reason


class ResponseWithdrawal(Schema):
    reason: Reason
    expected_version: int


class AnswerChangeRead(Schema):
    path: str
    kind: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None


class VersionDiffRead(Schema):
    response_id: int
    from_version: int
    to_version: int
    changes: list[AnswerChangeRead]


class CompletionRowRead(Schema):
    key: str
    invited: int
    started: int = Field(description="centres with a draft or a submission")
    submitted: int = Field(description="centres with at least one submitted response")
    response_rate: float

    @classmethod
    def of(cls, row: CompletionRow) -> CompletionRowRead:
        return cls(
            key=row.key,
            invited=row.invited,
            started=row.started,
            submitted=row.submitted,
            response_rate=round(row.response_rate, 4),
        )


class CompletionRead(Schema):
    """Completion of a campaign, within the caller's scope (a domain lead sees their domains)."""

    campaign: str
    total: CompletionRowRead
    by_country: list[CompletionRowRead]
    by_domain: list[CompletionRowRead]

    @classmethod
    def of(cls, slug: str, completion: Completion) -> CompletionRead:
        return cls(
            campaign=slug,
            total=CompletionRowRead.of(completion.total),
            by_country=[CompletionRowRead.of(r) for r in completion.by_country],
            by_domain=[CompletionRowRead.of(r) for r in completion.by_domain],
        )
