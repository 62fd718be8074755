"""Questionnaires and their immutable, content-hashed versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, utcnow

VERSION_STATUSES = ("draft", "published", "retired")


class Questionnaire(Base):
    """A questionnaire identified by its XLSForm ``form_id``; its content lives in versions."""

    __tablename__ = "questionnaire"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    domain: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QuestionnaireVersion(Base):
    """One version of a questionnaire. Once published it never changes; edits make a new one."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "version"),
        UniqueConstraint("questionnaire_id", "content_hash"),
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"), index=True)
    version: Mapped[str] = mapped_column(String(50))
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]

    questionnaire: Mapped[Questionnaire] = relationship(lazy="raise")
