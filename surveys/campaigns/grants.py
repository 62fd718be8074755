"""Researcher grants: which campaigns a researcher may read and export (deny by default).

A researcher reads the releases and exports of the campaigns granted to them and nothing else;
an API token may narrow its user further to some campaigns (``api_token.campaigns``). Both come
together in :func:`readable_campaigns`, which the export and release services ask before
anything is read. Admins and coordinators (``campaigns:manage``) grant and revoke; each is one
audited use case (``campaign.grant``, ``campaign.grant_revoke``), called alike by the admin page,
the JSON API and the command line.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveys.accounts.models import User
from surveys.audit.channel import channel
from surveys.audit.service import record
from surveys.campaigns.errors import CampaignNotFound, GrantNotFound, NotAResearcher
from surveys.campaigns.lifecycle import get_campaign
from surveys.campaigns.models import Campaign, CampaignGrant
from surveys.campaigns.schemas import GrantCreate, GrantRead
from surveys.db import utcnow
from surveys.errors import FieldError
from surveys.policy import Actor, Permission, Role, authorize, owner_clause


def to_read(grant: CampaignGrant) -> GrantRead:
    return GrantRead(
        id=grant.id,
        user_id=grant.user_id,
        campaign=grant.campaign.slug,
        granted_at=grant.granted_at,
        granted_by=grant.granted_by,
    )


def granted_slugs(session: Session, user_id: int) -> set[str]:
    """The campaigns (slugs) granted to a user."""
    return set(
        session.scalars(
            select(Campaign.slug)
            .join(CampaignGrant, CampaignGrant.campaign_id == Campaign.id)
            .where(CampaignGrant.user_id == user_id)
        )
    )


def readable_campaigns(session: Session, actor: Actor) -> frozenset[str] | None:
    """The campaigns (slugs) the actor may read, or None when no grant or token narrows them.

    A researcher: the campaigns granted to them; through a token issued for some campaigns,
    only those of them. Other roles read by role, narrowed only by such a token.
    """
    allowed: set[str] | None = None
    if actor.kind == "staff" and actor.role is Role.RESEARCHER and actor.user_id is not None:
        allowed = granted_slugs(session, actor.user_id)
    if actor.campaigns is not None:
        allowed = set(actor.campaigns) if allowed is None else allowed & actor.campaigns
    return None if allowed is None else frozenset(allowed)


def check_readable(session: Session, actor: Actor, slug: str) -> None:
    """Raise "campaign not found" (404, as for a missing one) unless the actor may read it."""
    allowed = readable_campaigns(session, actor)
    if allowed is not None and slug not in allowed:
        raise CampaignNotFound(f"No campaign is called {slug!r}.")


def list_grants(session: Session, actor: Actor, *, user_id: int | None = None) -> list[GrantRead]:
    """Grants the actor may see: their own, or everyone's with ``campaigns:manage``."""
    if Permission.CAMPAIGNS_MANAGE not in actor.permissions:
        authorize(actor, Permission.EXPORT_PSEUDONYMISED)
    query = (
        select(CampaignGrant)
        .options(joinedload(CampaignGrant.campaign))
        .where(owner_clause(actor, CampaignGrant.user_id, Permission.CAMPAIGNS_MANAGE))
        .order_by(CampaignGrant.user_id, CampaignGrant.id)
    )
    if user_id is not None:
        query = query.where(CampaignGrant.user_id == user_id)
    return [to_read(grant) for grant in session.scalars(query)]


def grant_campaign(
    session: Session, actor: Actor, data: GrantCreate, *, request_id: str | None
) -> tuple[GrantRead, bool]:
    """Grant a researcher one campaign (campaigns:manage); granting again changes nothing.

    Returns the grant and whether it is new; only a new grant is recorded (``campaign.grant``).
    """
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    user = session.get(User, data.user_id)
    if user is None or user.role != Role.RESEARCHER.value:
        raise NotAResearcher(
            "Grants are for researcher accounts: other roles read campaigns by their role. "
            "Give the id of a researcher (see /admin/users).",
            errors=[FieldError(("user_id",), "not a researcher account")],
        )
    campaign = get_campaign(session, data.campaign)
    existing = session.scalar(
        select(CampaignGrant)
        .options(joinedload(CampaignGrant.campaign))
        .where(CampaignGrant.user_id == user.id, CampaignGrant.campaign_id == campaign.id)
    )
    if existing is not None:
        return to_read(existing), False
    grant = CampaignGrant(
        user_id=user.id,
        campaign_id=campaign.id,
        campaign=campaign,
        granted_at=utcnow(),
        granted_by=actor.label,
    )
    session.add(grant)
    session.flush()
    record(
        session,
        actor=actor,
        action="campaign.grant",
        object_type="campaign_grant",
        object_id=grant.id,
        details={"user": user.id, "campaign": campaign.slug, **channel(actor)},
        request_id=request_id,
    )
    return to_read(grant), True


def revoke_grant(
    session: Session, actor: Actor, grant_id: int, *, request_id: str | None
) -> GrantRead:
    """Take a grant back (campaigns:manage): the researcher's next export of it is refused."""
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    grant = session.scalar(
        select(CampaignGrant)
        .options(joinedload(CampaignGrant.campaign))
        .where(CampaignGrant.id == grant_id)
    )
    if grant is None:
        raise GrantNotFound("No grant has this id.")
    gone = to_read(grant)
    session.delete(grant)
    session.flush()
    record(
        session,
        actor=actor,
        action="campaign.grant_revoke",
        object_type="campaign_grant",
        object_id=gone.id,
        details={"user": gone.user_id, "campaign": gone.campaign, **channel(actor)},
        request_id=request_id,
    )
    return gone


def find_grant(session: Session, *, user_id: int, campaign: str) -> int | None:
    """The id of a researcher's grant of a campaign (for the command line's revoke)."""
    return session.scalar(
        select(CampaignGrant.id)
        .join(Campaign, Campaign.id == CampaignGrant.campaign_id)
        .where(CampaignGrant.user_id == user_id, Campaign.slug == campaign)
    )
