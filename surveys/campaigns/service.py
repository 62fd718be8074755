"""Campaigns and invitations: who is asked which questionnaires, when, and with which link.

An invitation token is 256 random bits (``secrets.token_urlsafe(32)``); only its SHA-256 is
stored, so a leaked database does not leak working links. A token that is unknown or revoked
answers exactly like one that never existed; an expired one says so, so the centre knows to ask
its coordinator.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, joinedload

from surveys.campaigns.models import Campaign, CampaignCentre, CampaignQuestionnaire, Invitation
from surveys.db import utcnow
from surveys.errors import Conflict, ErrorKind, FieldError, InvalidInput, NotFound
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.registry.models import Centre, Country

TOKEN_BYTES = 32
TRANSITIONS = {"open": {"draft", "closed"}, "closed": {"open"}}


class CampaignNotFound(NotFound):
    code = "campaign_not_found"


class CampaignClosed(Conflict):
    code = "campaign_closed"
    title = "The campaign is closed"


class CampaignStateConflict(Conflict):
    code = "campaign_state"


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    title = "Invitation not found"


class InvitationExpired(InvalidInput):
    code = "invitation_expired"
    kind = ErrorKind.GONE
    title = "This invitation has expired"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def get_campaign(session: Session, slug: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise CampaignNotFound(f"No campaign is called {slug!r}.")
    return campaign


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.created_at.desc())))


def create_campaign(
    session: Session,
    *,
    slug: str,
    name: str,
    versions: Sequence[QuestionnaireVersion],
    centres: Sequence[Centre],
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    is_synthetic: bool = False,
) -> Campaign:
    """A campaign in draft: these published questionnaire versions, sent to these centres."""
    if session.scalar(select(Campaign.id).where(Campaign.slug == slug)) is not None:
        raise CampaignStateConflict(f"A campaign called {slug!r} already exists.")
    unpublished = [v.version for v in versions if v.status != "published"]
    if unpublished:
        raise InvalidInput("Only published questionnaire versions can be sent; publish them first.")
    if opens_at and closes_at and closes_at <= opens_at:
        raise InvalidInput("The campaign must close after it opens.")
    campaign = Campaign(
        slug=slug,
        name=name,
        opens_at=opens_at,
        closes_at=closes_at,
        status="draft",
        is_synthetic=is_synthetic,
    )
    session.add(campaign)
    session.flush()
    session.add_all(
        CampaignQuestionnaire(campaign_id=campaign.id, questionnaire_version_id=v.id)
        for v in versions
    )
    session.add_all(CampaignCentre(campaign_id=campaign.id, centre_id=c.id) for c in centres)
    session.flush()
    return campaign


def _transition(campaign: Campaign, to: str) -> Campaign:
    if campaign.status == to:
        return campaign
    if campaign.status not in TRANSITIONS.get(to, set()):
        raise CampaignStateConflict(f"A {campaign.status} campaign cannot be set to {to}.")
    campaign.status = to
    return campaign


def open_campaign(session: Session, campaign: Campaign) -> Campaign:
    """Start (or restart) collection."""
    _transition(campaign, "open")
    session.flush()
    return campaign


def close_campaign(session: Session, campaign: Campaign) -> Campaign:
    """Stop collection: drafts stay readable, nothing can be saved or submitted."""
    _transition(campaign, "closed")
    session.flush()
    return campaign


def is_open(campaign: Campaign, now: dt.datetime) -> bool:
    return (
        campaign.status == "open"
        and (campaign.opens_at is None or now >= campaign.opens_at)
        and (campaign.closes_at is None or now < campaign.closes_at)
    )


def ensure_open(campaign: Campaign, now: dt.datetime) -> None:
    if not is_open(campaign, now):
        raise CampaignClosed(
            "The campaign is closed: nothing can be saved or submitted any more. Your draft is "
            "kept and stays readable; contact your coordinator if you need more time."
        )


def campaign_versions(session: Session, campaign: Campaign) -> list[QuestionnaireVersion]:
    return list(
        session.scalars(
            select(QuestionnaireVersion)
            .join(
                CampaignQuestionnaire,
                CampaignQuestionnaire.questionnaire_version_id == QuestionnaireVersion.id,
            )
            .where(CampaignQuestionnaire.campaign_id == campaign.id)
            .options(joinedload(QuestionnaireVersion.questionnaire))
            .order_by(QuestionnaireVersion.id)
        )
    )


def campaign_version(
    session: Session, campaign: Campaign, form_id: str
) -> QuestionnaireVersion | None:
    """The campaign's version of one questionnaire, its definition left unloaded (see
    :func:`surveys.questionnaires.definitions.compiled.compiled_version`)."""
    return session.scalar(
        select(QuestionnaireVersion)
        .join(
            CampaignQuestionnaire,
            CampaignQuestionnaire.questionnaire_version_id == QuestionnaireVersion.id,
        )
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(CampaignQuestionnaire.campaign_id == campaign.id, Questionnaire.form_id == form_id)
        .options(defer(QuestionnaireVersion.definition))
    )


def expected_centres(session: Session, campaign: Campaign) -> list[Centre]:
    return list(
        session.scalars(
            select(Centre)
            .join(CampaignCentre, CampaignCentre.centre_id == Centre.id)
            .where(CampaignCentre.campaign_id == campaign.id)
            .options(joinedload(Centre.country))
            .order_by(Centre.id)
        )
    )


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str


def issue_invitation(
    session: Session, campaign: Campaign, centre: Centre, *, expires_at: dt.datetime | None = None
) -> IssuedInvitation:
    """A new link for one centre; the plain token is returned here once and never stored."""
    token = new_token()
    invitation = Invitation(
        campaign_id=campaign.id,
        centre_id=centre.id,
        token_hash=hash_token(token),
        expires_at=expires_at or campaign.closes_at,
    )
    session.add(invitation)
    session.flush()
    return IssuedInvitation(invitation, token)


def issue_invitations(
    session: Session, campaign: Campaign, *, expires_at: dt.datetime | None = None
) -> list[IssuedInvitation]:
    """Links for every expected centre that has no live invitation yet."""
    live = set(
        session.scalars(
            select(Invitation.centre_id).where(
                Invitation.campaign_id == campaign.id, Invitation.revoked_at.is_(None)
            )
        )
    )
    return [
        issue_invitation(session, campaign, centre, expires_at=expires_at)
        for centre in expected_centres(session, campaign)
        if centre.id not in live
    ]


def revoke_invitation(session: Session, invitation: Invitation) -> None:
    invitation.revoked_at = invitation.revoked_at or utcnow()
    session.flush()


def reissue_invitation(session: Session, invitation: Invitation) -> IssuedInvitation:
    """Revoke a link and make a new one for the same centre and campaign."""
    revoke_invitation(session, invitation)
    campaign = session.get_one(Campaign, invitation.campaign_id)
    centre = session.get_one(Centre, invitation.centre_id)
    return issue_invitation(session, campaign, centre, expires_at=invitation.expires_at)


def resolve_invitation(session: Session, token: str, *, now: dt.datetime) -> Invitation:
    """The live invitation a token stands for. Unknown and revoked tokens look the same."""
    digest = hash_token(token)
    invitation = session.scalar(
        select(Invitation)
        .where(Invitation.token_hash == digest)
        .options(joinedload(Invitation.campaign), joinedload(Invitation.centre))
    )
    if invitation is None or not hmac.compare_digest(invitation.token_hash, digest):
        raise InvitationNotFound("This invitation link is not valid.")
    if invitation.revoked_at is not None:
        raise InvitationNotFound("This invitation link is not valid.")
    if invitation.expires_at is not None and now >= invitation.expires_at:
        raise InvitationExpired("This invitation has expired; contact your coordinator.")
    invitation.last_used_at = now
    return invitation


@dataclass(frozen=True)
class CompletionRow:
    country: str
    invited: int
    started: int
    submitted: int

    @property
    def response_rate(self) -> float:
        return self.submitted / self.invited if self.invited else 0.0


def completion_by_country(session: Session, campaign: Campaign) -> list[CompletionRow]:
    """Centres invited, started (any response) and submitted, per country."""
    from surveys.responses.models import FINAL_STATUSES, Response

    invited = dict(
        session.execute(
            select(Country.iso2, func.count(CampaignCentre.id))
            .join(Centre, Centre.id == CampaignCentre.centre_id)
            .join(Country, Country.id == Centre.country_id)
            .where(CampaignCentre.campaign_id == campaign.id)
            .group_by(Country.iso2)
        )
    )

    def centres_with(statuses: tuple[str, ...] | None) -> dict[str, int]:
        query = (
            select(Country.iso2, func.count(func.distinct(Response.centre_id)))
            .join(Centre, Centre.id == Response.centre_id)
            .join(Country, Country.id == Centre.country_id)
            .where(Response.campaign_id == campaign.id)
        )
        if statuses:
            query = query.where(Response.status.in_(statuses))
        return dict(session.execute(query.group_by(Country.iso2)))

    started, submitted = centres_with(None), centres_with(FINAL_STATUSES)
    return [
        CompletionRow(code, count, started.get(code, 0), submitted.get(code, 0))
        for code, count in sorted(invited.items())
    ]


def questionnaire_of(session: Session, version: QuestionnaireVersion) -> Questionnaire:
    return session.get_one(Questionnaire, version.questionnaire_id)


# --- coordinator operations: choosing what and whom, reopening, invitations, reminders -------

CENTRE_SCOPES = ("all", "countries", "ids")


def choose_versions(
    session: Session, choices: Sequence[tuple[str, str | None]]
) -> list[QuestionnaireVersion]:
    """The versions a campaign sends: ``(form_id, version)``, the latest published when None."""
    chosen: list[QuestionnaireVersion] = []
    problems: list[FieldError] = []
    for index, (form_id, number) in enumerate(choices):
        query = (
            select(QuestionnaireVersion)
            .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
            .where(Questionnaire.form_id == form_id, QuestionnaireVersion.status == "published")
            .options(joinedload(QuestionnaireVersion.questionnaire))
        )
        if number is not None:
            query = query.where(QuestionnaireVersion.version == number)
        found = session.scalar(
            query.order_by(
                QuestionnaireVersion.published_at.desc(), QuestionnaireVersion.id.desc()
            ).limit(1)
        )
        if found is None:
            what = f"version {number} of {form_id!r}" if number else f"{form_id!r}"
            problems.append(
                FieldError(
                    ("questionnaires", index),
                    f"no published {what}; publish it first or choose another questionnaire",
                )
            )
        elif any(v.questionnaire_id == found.questionnaire_id for v in chosen):
            problems.append(
                FieldError(("questionnaires", index), f"{form_id!r} is chosen twice; keep one")
            )
        else:
            chosen.append(found)
    if not choices:
        problems.append(FieldError(("questionnaires",), "choose at least one questionnaire"))
    if problems:
        raise InvalidInput("Some questionnaires cannot be sent.", errors=problems)
    return chosen


def choose_centres(
    session: Session,
    *,
    scope: str,
    countries: Sequence[str] = (),
    centre_ids: Sequence[str] = (),
) -> list[Centre]:
    """The centres a campaign asks: all active ones, the active ones of some countries, or a list
    of centres by their stable ids (inactive ones included: naming a centre is deliberate)."""
    if scope not in CENTRE_SCOPES:
        raise InvalidInput(
            f"Unknown centre choice {scope!r}; use one of {', '.join(CENTRE_SCOPES)}.",
            errors=[FieldError(("centre_scope",), "unknown choice")],
        )
    query = select(Centre).join(Country, Country.id == Centre.country_id).order_by(Centre.id)
    if scope == "ids":
        wanted = list(dict.fromkeys(centre_ids))
        found = list(session.scalars(query.where(Centre.public_id.in_(wanted))))
        unknown = sorted(set(wanted) - {c.public_id for c in found})
        if unknown or not wanted:
            message = (
                f"unknown centre id(s): {', '.join(unknown[:10])}" if unknown else "list one centre"
            )
            raise InvalidInput(
                "Some centres are not in the registry.",
                errors=[FieldError(("centre_ids",), message)],
            )
        return found
    query = query.where(Centre.active.is_(True))
    if scope == "countries":
        codes = sorted({c.upper() for c in countries})
        known = set(session.scalars(select(Country.iso2).where(Country.iso2.in_(codes))))
        unknown = [c for c in codes if c not in known]
        if unknown or not codes:
            message = f"unknown country code(s): {', '.join(unknown)}" if unknown else "name one"
            raise InvalidInput(
                "Some countries are not known.", errors=[FieldError(("countries",), message)]
            )
        query = query.where(Country.iso2.in_(codes))
    centres = list(session.scalars(query))
    if not centres:
        raise InvalidInput(
            "No active centre matches this choice.",
            errors=[FieldError(("centre_scope",), "no active centre matches")],
        )
    return centres


def reopen_campaign(
    session: Session, campaign: Campaign, *, closes_at: dt.datetime | None, now: dt.datetime
) -> Campaign:
    """Reopen a closed campaign until a new deadline; live links that expired with the old
    deadline are extended to the new one (revoked links stay revoked)."""
    if campaign.status != "closed":
        raise CampaignStateConflict(
            f"Only a closed campaign can be reopened; this one is {campaign.status}."
        )
    if closes_at is not None and closes_at <= now:
        raise InvalidInput(
            "The new deadline must be in the future.",
            errors=[FieldError(("closes_at",), "must be in the future")],
        )
    if closes_at is None and campaign.closes_at is not None and campaign.closes_at <= now:
        raise InvalidInput(
            "The deadline has passed: give a new one.",
            errors=[FieldError(("closes_at",), "give a new deadline")],
        )
    if closes_at is not None:
        if campaign.opens_at is not None and closes_at <= campaign.opens_at:
            raise InvalidInput(
                "The campaign must close after it opens.",
                errors=[FieldError(("closes_at",), "must be after the opening date")],
            )
        for invitation in session.scalars(
            select(Invitation).where(
                Invitation.campaign_id == campaign.id,
                Invitation.revoked_at.is_(None),
                Invitation.expires_at.is_not(None),
                Invitation.expires_at < closes_at,
            )
        ):
            invitation.expires_at = closes_at
        campaign.closes_at = closes_at
    _transition(campaign, "open")
    session.flush()
    return campaign


def list_invitations(session: Session, campaign: Campaign) -> list[Invitation]:
    """Every invitation of a campaign (revoked ones too), by centre then newest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.campaign_id == campaign.id)
            .options(joinedload(Invitation.centre).joinedload(Centre.country))
            .order_by(Invitation.centre_id, Invitation.id.desc())
        )
    )


def get_invitation(session: Session, campaign: Campaign, invitation_id: int) -> Invitation:
    """An invitation of this campaign; one of another campaign is not found."""
    found = None
    if 0 < invitation_id < 2**31:
        found = session.scalar(
            select(Invitation)
            .where(Invitation.id == invitation_id, Invitation.campaign_id == campaign.id)
            .options(joinedload(Invitation.centre).joinedload(Centre.country))
        )
    if found is None:
        raise InvitationNotFound(f"No invitation {invitation_id} in this campaign.")
    return found


def centres_not_submitted(session: Session, campaign: Campaign) -> list[Centre]:
    """Expected centres still missing a submitted response to at least one questionnaire."""
    from surveys.responses.models import FINAL_STATUSES, Response

    wanted = {v.questionnaire_id for v in campaign_versions(session, campaign)}
    done: dict[int, set[int]] = {}
    for centre_id, questionnaire_id in session.execute(
        select(Response.centre_id, Response.questionnaire_id).where(
            Response.campaign_id == campaign.id, Response.status.in_(FINAL_STATUSES)
        )
    ):
        done.setdefault(centre_id, set()).add(questionnaire_id)
    return [c for c in expected_centres(session, campaign) if not wanted <= done.get(c.id, set())]


@dataclass(frozen=True)
class Renewal:
    """A centre's new link, and the ids of its links that were revoked for it."""

    issued: IssuedInvitation
    revoked: list[int]


def _renew(
    session: Session, campaign: Campaign, centre: Centre, expires_at: dt.datetime | None
) -> Renewal:
    live = list(
        session.scalars(
            select(Invitation).where(
                Invitation.campaign_id == campaign.id,
                Invitation.centre_id == centre.id,
                Invitation.revoked_at.is_(None),
            )
        )
    )
    for invitation in live:
        revoke_invitation(session, invitation)
    issued = issue_invitation(session, campaign, centre, expires_at=expires_at)
    return Renewal(issued, [i.id for i in live])


def renew_invitation(
    session: Session, invitation: Invitation, *, expires_at: dt.datetime | None = None
) -> Renewal:
    """A new link for the invitation's centre; every live link of that centre is revoked, so a
    centre never holds two working links (re-issuing an already revoked one is fine too)."""
    campaign = session.get_one(Campaign, invitation.campaign_id)
    centre = session.get_one(Centre, invitation.centre_id)
    return _renew(session, campaign, centre, expires_at)


def remind_not_submitted(
    session: Session, campaign: Campaign, *, expires_at: dt.datetime | None = None
) -> list[Renewal]:
    """A new link for every centre that has not submitted everything (its old links revoked:
    only hashes are stored, so a reminder that carries a link must re-issue it)."""
    if campaign.status != "open":
        raise CampaignStateConflict(
            f"Reminders go out while the campaign is open; this one is {campaign.status}."
        )
    return [
        _renew(session, campaign, centre, expires_at)
        for centre in centres_not_submitted(session, campaign)
    ]


def contact_emails(session: Session, centre_ids: Sequence[int]) -> dict[int, str]:
    """The first contact e-mail address of each centre that has one (erased contacts skipped)."""
    from surveys.registry.models import Contact

    found: dict[int, str] = {}
    rows = session.execute(
        select(Contact.centre_id, Contact.email)
        .where(
            Contact.centre_id.in_(list(centre_ids)),
            Contact.email.is_not(None),
            Contact.erased_at.is_(None),
        )
        .order_by(Contact.centre_id, Contact.id)
    )
    for centre_id, email in rows:
        if email and email.strip():
            found.setdefault(centre_id, email.strip())
    return found


def mark_sent(session: Session, invitations: Sequence[Invitation], *, now: dt.datetime) -> None:
    """Remember when links went out by e-mail."""
    for invitation in invitations:
        invitation.sent_at = now
    session.flush()


def invitation_state(invitation: Invitation, now: dt.datetime) -> str:
    """``revoked``, ``expired``, ``used`` (opened at least once) or ``live``."""
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at is not None and now >= invitation.expires_at:
        return "expired"
    return "used" if invitation.last_used_at is not None else "live"


def count_expected_centres(session: Session, campaign: Campaign) -> int:
    return (
        session.scalar(
            select(func.count(CampaignCentre.id)).where(CampaignCentre.campaign_id == campaign.id)
        )
        or 0
    )


def open_draft_campaign(session: Session, campaign: Campaign) -> Campaign:
    """Open a campaign for the first time; a closed one is reopened with a deadline instead."""
    if campaign.status != "draft":
        raise CampaignStateConflict(
            f"This campaign is {campaign.status}; only a draft is opened (a closed campaign is "
            "reopened, with a new deadline if the old one has passed)."
        )
    return open_campaign(session, campaign)
