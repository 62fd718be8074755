"""A campaign's life: set up in draft (what is sent, to whom, when), opened, closed, reopened.

The use cases (:func:`create_campaign`, :func:`create_synthetic_campaign`,
:func:`open_campaign`, :func:`close_campaign`, :func:`reopen_campaign`) take the actor and the
request id, check the actor may manage campaigns, make the change and record its audit event in
the same transaction (flushed, never committed). The JSON routes and the pages call them, the
loaders of synthetic and test data too (as the system); the rest of this module reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session, defer, joinedload

from surveys.audit.service import record
from surveys.campaigns.choices import choose_centres, choose_versions
from surveys.campaigns.errors import CampaignClosed, CampaignNotFound, CampaignStateConflict
from surveys.campaigns.models import (
    Campaign,
    CampaignCentre,
    CampaignQuestionnaire,
    CampaignStatus,
    Invitation,
)
from surveys.campaigns.schemas import CampaignCreate
from surveys.errors import FieldError, InvalidInput
from surveys.policy import (
    Actor,
    Permission,
    authorize,
    country_clause,
    domain_clause,
    domain_scoped,
)
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.registry.models import Centre, Country

# Which statuses a campaign may come from, by the status it goes to.
TRANSITIONS = {
    CampaignStatus.OPEN: {CampaignStatus.DRAFT, CampaignStatus.CLOSED},
    CampaignStatus.CLOSED: {CampaignStatus.OPEN},
}


# --- reading ----------------------------------------------------------------------------------


def get_campaign(session: Session, slug: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise CampaignNotFound(f"No campaign is called {slug!r}.")
    return campaign


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.created_at.desc())))


# --- reading, as an actor: a domain lead sees the campaigns that ask their domains -------------


def _visible(actor: Actor) -> ColumnElement[bool]:
    """Campaigns a domain lead may see: those asking a questionnaire of their domains."""
    if not domain_scoped(actor):
        return true()
    asking = (
        select(CampaignQuestionnaire.campaign_id)
        .join(
            QuestionnaireVersion,
            QuestionnaireVersion.id == CampaignQuestionnaire.questionnaire_version_id,
        )
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(domain_clause(actor, Questionnaire.domain))
    )
    return Campaign.id.in_(asking)


def visible_campaigns(session: Session, actor: Actor) -> list[Campaign]:
    """The campaigns the actor may see, newest first (scenario 33: the filter is the query's)."""
    query = select(Campaign).where(_visible(actor)).order_by(Campaign.created_at.desc())
    return list(session.scalars(query))


def visible_campaign(session: Session, actor: Actor, slug: str) -> Campaign:
    """A campaign the actor may see; one outside a lead's domains is not found (404)."""
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug, _visible(actor)))
    if campaign is None:
        raise CampaignNotFound(f"No campaign is called {slug!r}.")
    return campaign


def visible_versions(
    session: Session, actor: Actor, campaign: Campaign
) -> list[QuestionnaireVersion]:
    """The campaign's questionnaire versions within the actor's domains."""
    return [
        v
        for v in campaign_versions(session, campaign)
        if not domain_scoped(actor) or v.questionnaire.domain in actor.domains
    ]


def count_visible_centres(session: Session, actor: Actor, campaign: Campaign) -> int:
    """The centres the campaign asks, within a lead's countries."""
    query = (
        select(func.count(CampaignCentre.id))
        .join(Centre, Centre.id == CampaignCentre.centre_id)
        .join(Country, Country.id == Centre.country_id)
        .where(CampaignCentre.campaign_id == campaign.id, country_clause(actor, Country.iso2))
    )
    return session.scalar(query) or 0


def ensure_open(campaign: Campaign, now: dt.datetime) -> None:
    if not campaign.accepts_answers(now):
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


def count_expected_centres(session: Session, campaign: Campaign) -> int:
    return (
        session.scalar(
            select(func.count(CampaignCentre.id)).where(CampaignCentre.campaign_id == campaign.id)
        )
        or 0
    )


# --- use cases --------------------------------------------------------------------------------


def record_campaign_event(
    session: Session,
    actor: Actor,
    action: str,
    campaign: Campaign,
    *,
    request_id: str | None,
    **details: object,
) -> None:
    """One audit event about a campaign (flushed with the change, never committed)."""
    record(
        session,
        actor=actor,
        action=action,
        object_type="campaign",
        object_id=campaign.slug,
        details=details,
        request_id=request_id,
    )


def create_campaign(
    session: Session, actor: Actor, data: CampaignCreate, *, request_id: str | None
) -> Campaign:
    """A campaign in draft: the chosen published questionnaire versions, sent to the chosen
    centres (all active ones, those of some countries, or a list of ids)."""
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    versions = choose_versions(session, [(q.form_id, q.version) for q in data.questionnaires])
    centres = choose_centres(
        session, scope=data.centre_scope, countries=data.countries, centre_ids=data.centre_ids
    )
    return _create(
        session,
        actor,
        Campaign(
            slug=data.slug,
            name=data.name,
            opens_at=data.opens_at,
            closes_at=data.closes_at,
            is_synthetic=False,
        ),
        versions,
        centres,
        request_id=request_id,
    )


def create_synthetic_campaign(
    session: Session,
    actor: Actor,
    *,
    slug: str,
    name: str,
    versions: Sequence[QuestionnaireVersion],
    centres: Sequence[Centre],
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    request_id: str | None,
) -> Campaign:
    """A campaign of synthetic data in draft (the demo, the benchmarks), sent to centres the
    loader made: it holds the rows already, and may ask more centres than a request may list."""
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    unpublished = [v.version for v in versions if v.status != "published"]
    if unpublished:
        raise InvalidInput("Only published questionnaire versions can be sent; publish them first.")
    campaign = Campaign(
        slug=slug, name=name, opens_at=opens_at, closes_at=closes_at, is_synthetic=True
    )
    return _create(session, actor, campaign, versions, centres, request_id=request_id)


def _create(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    versions: Sequence[QuestionnaireVersion],
    centres: Sequence[Centre],
    *,
    request_id: str | None,
) -> Campaign:
    if session.scalar(select(Campaign.id).where(Campaign.slug == campaign.slug)) is not None:
        raise CampaignStateConflict(f"A campaign called {campaign.slug!r} already exists.")
    if campaign.opens_at and campaign.closes_at and campaign.closes_at <= campaign.opens_at:
        raise InvalidInput("The campaign must close after it opens.")
    campaign.status = CampaignStatus.DRAFT
    session.add(campaign)
    session.flush()
    session.add_all(
        CampaignQuestionnaire(campaign_id=campaign.id, questionnaire_version_id=v.id)
        for v in versions
    )
    session.add_all(CampaignCentre(campaign_id=campaign.id, centre_id=c.id) for c in centres)
    session.flush()
    record_campaign_event(
        session,
        actor,
        "campaign.create",
        campaign,
        request_id=request_id,
        questionnaires=[
            f"{v.definition['settings']['form_id']}@{v.version}"
            for v in campaign_versions(session, campaign)
        ],
        centres=count_expected_centres(session, campaign),
    )
    return campaign


def _transition(campaign: Campaign, to: CampaignStatus) -> None:
    if campaign.status == to:
        return
    if campaign.status not in TRANSITIONS.get(to, set()):
        raise CampaignStateConflict(f"A {campaign.status} campaign cannot be set to {to}.")
    campaign.status = to


def open_campaign(
    session: Session, actor: Actor, campaign: Campaign, *, request_id: str | None
) -> Campaign:
    """Start collection, once: a closed campaign is reopened (with a deadline) instead."""
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignStateConflict(
            f"This campaign is {campaign.status}; only a draft is opened (a closed campaign is "
            "reopened, with a new deadline if the old one has passed)."
        )
    _transition(campaign, CampaignStatus.OPEN)
    session.flush()
    record_campaign_event(session, actor, "campaign.open", campaign, request_id=request_id)
    return campaign


def close_campaign(
    session: Session, actor: Actor, campaign: Campaign, *, request_id: str | None
) -> Campaign:
    """Stop collection: drafts stay readable, nothing can be saved or submitted."""
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    _transition(campaign, CampaignStatus.CLOSED)
    session.flush()
    record_campaign_event(session, actor, "campaign.close", campaign, request_id=request_id)
    return campaign


def _check_new_deadline(
    campaign: Campaign, closes_at: dt.datetime | None, now: dt.datetime
) -> None:
    if campaign.status != CampaignStatus.CLOSED:
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
    if closes_at is not None and campaign.opens_at is not None and closes_at <= campaign.opens_at:
        raise InvalidInput(
            "The campaign must close after it opens.",
            errors=[FieldError(("closes_at",), "must be after the opening date")],
        )


def reopen_campaign(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    *,
    closes_at: dt.datetime | None,
    now: dt.datetime,
    request_id: str | None,
) -> Campaign:
    """Reopen a closed campaign until a new deadline; live links that expired with the old
    deadline are extended to the new one (revoked links stay revoked)."""
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    _check_new_deadline(campaign, closes_at, now)
    if closes_at is not None:
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
    _transition(campaign, CampaignStatus.OPEN)
    session.flush()
    record_campaign_event(
        session,
        actor,
        "campaign.reopen",
        campaign,
        request_id=request_id,
        closes_at=campaign.closes_at.isoformat() if campaign.closes_at else None,
    )
    return campaign
