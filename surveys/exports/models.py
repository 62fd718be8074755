"""Dataset releases: a campaign's approved data frozen as immutable, checksummed rows.

A release stores the canonical rows (pseudonymised answers, identifiers already removed) rather
than rendered files, so every format can be produced from it at any time, the same bytes each
time, and every app process can serve it (no files on one machine's disk). Database triggers
refuse UPDATE and DELETE on both tables (revision 0003).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.campaigns.models import Campaign
from surveys.db import Base, utcnow


class DatasetRelease(Base):
    """Release ``number`` of a campaign's data, with its citation and content checksum."""

    __tablename__ = "dataset_release"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    citation: Mapped[str] = mapped_column(Text)
    record_count: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    # The disclosure report of the freeze (surveys.exports.disclosure): rule, k, what was
    # coarsened or suppressed. Copied into every download's manifest.
    disclosure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship(lazy="raise")


class DatasetReleaseRecord(Base):
    """One frozen response of a release: pseudonymous keys and answers without identifiers."""

    __tablename__ = "dataset_release_record"
    __table_args__ = (UniqueConstraint("release_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("dataset_release.id"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    response_key: Mapped[str] = mapped_column(String(36))
    centre: Mapped[str] = mapped_column(String(36))
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    submitted_at: Mapped[dt.datetime | None]
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    answers_sha256: Mapped[str] = mapped_column(String(64))
