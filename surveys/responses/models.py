"""Responses of centres to questionnaires, and every submitted state they went through."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, utcnow
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.models import Centre


class ResponseStatus(StrEnum):
    """Where a response is in its life; the values are what the ``status`` column stores."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    WITHDRAWN = "withdrawn"


class ReviewState(StrEnum):
    """A reviewer's verdict on a submitted response (``review_state``; ODK's review states)."""

    RECEIVED = "received"
    HAS_ISSUES = "has_issues"
    APPROVED = "approved"
    REJECTED = "rejected"


# Submitted responses, the only ones that count as data.
FINAL_STATUSES = (ResponseStatus.SUBMITTED, ResponseStatus.APPROVED)
_FINAL_CLAUSE = "status IN ('submitted', 'approved')"
_DRAFT_CLAUSE = "status = 'draft'"


class Response(Base):
    """A centre's answers to one questionnaire in one campaign.

    ``submission_uuid`` is created with the draft and is the idempotency key of the submission.
    ``version`` is the optimistic-lock counter: a save that names an older version is refused.
    At most one submitted (or approved) response exists per campaign, centre and questionnaire:
    a partial unique index enforces it on both databases.
    """

    __tablename__ = "response"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'submitted', 'approved', 'withdrawn')", name="status"),
        Index(
            "uq_response_one_final",
            "campaign_id",
            "centre_id",
            "questionnaire_id",
            unique=True,
            sqlite_where=text(_FINAL_CLAUSE),
            postgresql_where=text(_FINAL_CLAUSE),
        ),
        Index(
            "uq_response_one_draft",
            "campaign_id",
            "centre_id",
            "questionnaire_id",
            unique=True,
            sqlite_where=text(_DRAFT_CLAUSE),
            postgresql_where=text(_DRAFT_CLAUSE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    status: Mapped[str] = mapped_column(String(20), default=ResponseStatus.DRAFT.value)
    review_state: Mapped[str | None] = mapped_column(String(20))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answers_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[dt.datetime | None]

    centre: Mapped[Centre] = relationship(lazy="raise")
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's mapper hook


class ResponseVersion(Base):
    """A submitted state of a response, kept for ever: edits after submission add rows here."""

    __tablename__ = "response_version"
    __table_args__ = (UniqueConstraint("response_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    answers_hash: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ResponseComment(Base):
    """A reviewer's note on a response, with the review state it was written with.

    Comments are kept for ever, like versions: the review history of a response is its comments.
    """

    __tablename__ = "response_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    review_state: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
