"""Campaigns (questionnaire versions sent to a set of centres) and invitations."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, utcnow
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.models import Centre


class CampaignStatus(StrEnum):
    """Where a campaign is in its life; the values are what the ``status`` column stores."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Campaign(Base):
    """A survey wave: which questionnaires go to which centres, and when it is open."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),
        CheckConstraint(
            "closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at", name="dates"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=CampaignStatus.DRAFT.value)
    opens_at: Mapped[dt.datetime | None]
    closes_at: Mapped[dt.datetime | None]
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def accepts_answers(self, now: dt.datetime) -> bool:
        """Open, and ``now`` between the opening and the closing dates."""
        return (
            self.status == CampaignStatus.OPEN
            and (self.opens_at is None or now >= self.opens_at)
            and (self.closes_at is None or now < self.closes_at)
        )


class CampaignQuestionnaire(Base):
    """A questionnaire version that belongs to a campaign."""

    __tablename__ = "campaign_questionnaire"
    __table_args__ = (UniqueConstraint("campaign_id", "questionnaire_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))

    questionnaire_version: Mapped[QuestionnaireVersion] = relationship(lazy="raise")


class CampaignCentre(Base):
    """A centre expected to answer a campaign (the denominator of coverage)."""

    __tablename__ = "campaign_centre"
    __table_args__ = (UniqueConstraint("campaign_id", "centre_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)

    centre: Mapped[Centre] = relationship(lazy="raise")


class Invitation(Base):
    """An invitation for one centre to one campaign. Only the SHA-256 of the token is stored."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]

    campaign: Mapped[Campaign] = relationship(lazy="raise")
    centre: Mapped[Centre] = relationship(lazy="raise")

    def state(self, now: dt.datetime) -> str:
        """``revoked``, ``expired``, ``used`` (opened at least once) or ``live``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "used" if self.last_used_at is not None else "live"


class CampaignGrant(Base):
    """A researcher's access to one campaign's pseudonymised data; without one, none (deny by
    default). Granted and revoked by admins and coordinators (``surveys/campaigns/grants.py``)."""

    __tablename__ = "campaign_grant"
    __table_args__ = (UniqueConstraint("user_id", "campaign_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    granted_by: Mapped[str] = mapped_column(String(100))

    campaign: Mapped[Campaign] = relationship(lazy="raise")


class RespondentSession(Base):
    """A centre respondent's session, opened by an invitation link (only a hash is stored).

    The link's token is exchanged for this session at first use, so the token never appears in
    later URLs. Revoking the invitation ends the session at its next request.
    """

    __tablename__ = "respondent_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]

    invitation: Mapped[Invitation] = relationship(lazy="raise")
