"""Schemas of campaigns and invitations: what the API accepts and returns."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, field_validator, model_validator

from surveys.campaigns.models import Campaign, CampaignStatus, Invitation
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.schemas import CleanText, CountryCode, Name
from surveys.schemas import Schema

Slug = Annotated[
    str,
    StringConstraints(min_length=3, max_length=100, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"),
]
FormId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[\w.-]+$")]
VersionNumber = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w.-]+$")]
CentreId = Annotated[CleanText, StringConstraints(min_length=1, max_length=36)]
InvitationState = Literal["live", "used", "expired", "revoked"]
MailLanguage = Literal["en", "fr"]


class QuestionnaireChoice(Schema):
    """A questionnaire to send: a version number, or the latest published one when omitted."""

    form_id: FormId
    version: VersionNumber | None = None


class CampaignCreate(Schema):
    """A new campaign in draft: what is sent, to whom, and when it is open."""

    slug: Slug = Field(description="Lower-case letters, digits and hyphens, e.g. wave-2027")
    name: Name
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    questionnaires: list[QuestionnaireChoice] = Field(min_length=1, max_length=50)
    centre_scope: Literal["all", "countries", "ids"] = Field(
        default="all",
        description="all active centres, the active centres of `countries`, or `centre_ids`",
    )
    countries: list[CountryCode] = Field(default_factory=list, max_length=60)
    centre_ids: list[CentreId] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _closes_after_opening(self) -> CampaignCreate:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class CampaignReopen(Schema):
    """Reopening needs a new deadline when the old one has passed."""

    closes_at: AwareDatetime | None = None


class CampaignQuestionnaireRead(Schema):
    form_id: str
    version: str
    title: str
    domain: str | None

    @classmethod
    def of(cls, version: QuestionnaireVersion) -> CampaignQuestionnaireRead:
        settings = version.definition["settings"]
        titles: dict[str, str] = settings.get("title") or {}
        return cls(
            form_id=str(settings["form_id"]),
            version=version.version,
            title=titles.get("en") or next(iter(titles.values()), str(settings["form_id"])),
            domain=settings.get("domain") or None,
        )


class CampaignRead(Schema):
    slug: str
    name: str
    status: CampaignStatus
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    is_synthetic: bool
    created_at: dt.datetime
    accepting_answers: bool = Field(
        description="open, and now is between the opening and the closing dates"
    )

    @classmethod
    def of(cls, campaign: Campaign, now: dt.datetime) -> CampaignRead:
        return cls.model_validate(
            {
                **{name: getattr(campaign, name) for name in _CAMPAIGN_FIELDS},
                "accepting_answers": campaign.accepts_answers(now),
            }
        )


class CampaignDetail(CampaignRead):
    questionnaires: list[CampaignQuestionnaireRead]
    centres: int

    @classmethod
    def of_campaign(
        cls,
        campaign: Campaign,
        now: dt.datetime,
        *,
        versions: list[QuestionnaireVersion],
        centres: int,
    ) -> CampaignDetail:
        return cls(
            **CampaignRead.of(campaign, now).model_dump(),
            questionnaires=[CampaignQuestionnaireRead.of(v) for v in versions],
            centres=centres,
        )


_CAMPAIGN_FIELDS = ("slug", "name", "status", "opens_at", "closes_at", "is_synthetic", "created_at")


class InvitationRead(Schema):
    """An invitation as the coordinator sees it: never its token (only a hash is stored)."""

    id: int
    centre_id: str
    centre_name: str
    country: str
    state: InvitationState
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    sent_at: dt.datetime | None

    @classmethod
    def of(cls, invitation: Invitation, now: dt.datetime) -> InvitationRead:
        """Needs the invitation's centre and the centre's country loaded."""
        centre = invitation.centre
        return cls.model_validate(
            {
                "id": invitation.id,
                "centre_id": centre.public_id,
                "centre_name": centre.name,
                "country": centre.country.iso2,
                "state": invitation.state(now),
                "created_at": invitation.created_at,
                "expires_at": invitation.expires_at,
                "revoked_at": invitation.revoked_at,
                "last_used_at": invitation.last_used_at,
                "sent_at": invitation.sent_at,
            }
        )


class InvitationIssue(Schema):
    """Options of a bulk issue, a re-issue or a reminder round."""

    expires_at: AwareDatetime | None = Field(
        default=None, description="defaults to the campaign's closing time"
    )
    send: bool = Field(default=False, description="also e-mail each link (SMTP must be set up)")
    language: MailLanguage | None = Field(
        default=None, description="e-mail language; by default French for FR, BE, LU, MC"
    )

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value <= dt.datetime.now(dt.UTC):
            raise ValueError("must be in the future")
        return value


class IssuedLinkRead(Schema):
    """A just-issued link: this answer is the only place the token ever appears."""

    invitation_id: int
    centre_id: str
    centre_name: str
    country: str
    contact_email: str | None
    link: str
    expires_at: dt.datetime | None
    sent: bool


class IssueResult(Schema):
    issued: list[IssuedLinkRead]
    revoked: list[int] = Field(default_factory=list)
    sent: int
    failed: int
    without_address: int
    smtp_configured: bool


class GrantCreate(Schema):
    """A researcher's access to one campaign's pseudonymised data."""

    user_id: Annotated[int, Field(ge=1, le=2**31 - 1, description="The researcher's user id.")]
    campaign: Slug


class GrantRead(Schema):
    id: int
    user_id: int
    campaign: str
    granted_at: dt.datetime
    granted_by: str
