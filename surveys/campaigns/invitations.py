"""Invitations: one link per centre and campaign, issued, e-mailed, revoked and re-issued.

An invitation token is 256 random bits (``secrets.token_urlsafe(32)``); only its SHA-256 is
stored, so a leaked database does not leak working links, and the answer of the request that
issued a link (the mail-merge CSV, the e-mails sent then) is its only copy. A token that is
unknown or revoked answers exactly like one that never existed; an expired one says so, so the
centre knows to ask its coordinator.

The use cases (:func:`issue_invitations`, :func:`revoke_invitation`,
:func:`reissue_invitation`) check that the actor manages campaigns and record their audit event;
:func:`issue_invitation` and :func:`renew_links` are the steps they are made of (loaders of
synthetic data use the first to hand out links).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveys.campaigns import mail
from surveys.campaigns.errors import InvitationExpired, InvitationNotFound
from surveys.campaigns.lifecycle import expected_centres, record_campaign_event
from surveys.campaigns.models import Campaign, Invitation
from surveys.campaigns.schemas import InvitationIssue
from surveys.db import utcnow
from surveys.policy import Actor, Permission, authorize
from surveys.registry.models import Centre, Contact, Country

TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


# --- the steps: issuing, renewing, resolving --------------------------------------------------


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


@dataclass(frozen=True)
class Renewal:
    """A centre's new link, and the ids of its links that were revoked for it."""

    issued: IssuedInvitation
    revoked: list[int]


def renew_links(
    session: Session, campaign: Campaign, centre: Centre, *, expires_at: dt.datetime | None
) -> Renewal:
    """A new link for the centre; every live link it holds is revoked, so a centre never holds
    two working links (renewing after a revocation is fine too)."""
    live = list(
        session.scalars(
            select(Invitation).where(
                Invitation.campaign_id == campaign.id,
                Invitation.centre_id == centre.id,
                Invitation.revoked_at.is_(None),
            )
        )
    )
    now = utcnow()
    for invitation in live:
        invitation.revoked_at = now
    issued = issue_invitation(session, campaign, centre, expires_at=expires_at)
    return Renewal(issued, [i.id for i in live])


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


# --- getting the links to the centres ---------------------------------------------------------


def contact_emails(session: Session, centre_ids: Sequence[int]) -> dict[int, str]:
    """The first contact e-mail address of each centre that has one (erased contacts skipped)."""
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


@dataclass
class Delivery:
    """The links of one issue (or reminder) round, and what happened to their e-mails."""

    lines: list[mail.InvitationLink]
    sent: set[int] = field(default_factory=set)  # invitation ids
    failed: int = 0
    without_address: int = 0
    revoked: list[int] = field(default_factory=list)  # links revoked for the new ones


def deliver_links(
    session: Session,
    campaign: Campaign,
    issued: Sequence[IssuedInvitation],
    options: InvitationIssue,
    outbox: mail.Outbox,
    *,
    revoked: Sequence[int] = (),
    reminder: bool = False,
) -> Delivery:
    """Turn just-issued tokens into mail-merge lines and, when asked, e-mail each centre."""
    centre_ids = [i.invitation.centre_id for i in issued]
    centres = {
        row.id: row
        for row in session.execute(
            select(Centre.id, Centre.public_id, Centre.name, Country.iso2)
            .join(Country, Country.id == Centre.country_id)
            .where(Centre.id.in_(centre_ids))
        )
    }
    emails = contact_emails(session, centre_ids)
    lines = []
    for item in issued:
        centre = centres[item.invitation.centre_id]
        lines.append(
            mail.InvitationLink(
                invitation_id=item.invitation.id,
                centre_id=centre.public_id,
                centre_name=centre.name,
                country=centre.iso2,
                link=mail.invitation_link(outbox.base_url, item.token),
                expires_at=item.invitation.expires_at,
                contact_email=emails.get(item.invitation.centre_id),
            )
        )
    delivery = Delivery(lines, revoked=list(revoked))
    if not options.send:
        return delivery
    smtp = outbox.relay()
    addressed = [line for line in lines if line.contact_email]
    delivery.without_address = len(lines) - len(addressed)
    messages = [
        mail.compose(
            line,
            campaign=campaign.name,
            deadline=campaign.closes_at or line.expires_at,
            sender=smtp.sender,
            language=mail.language_for(line.country, options.language),
            reminder=reminder,
        )
        for line in addressed
    ]
    report = mail.send_all(smtp, messages)
    delivery.sent = {addressed[index].invitation_id for index in report.sent}
    delivery.failed = len(report.failed)
    now = utcnow()
    for item in issued:
        if item.invitation.id in delivery.sent:
            item.invitation.sent_at = now
    session.flush()
    return delivery


# --- use cases --------------------------------------------------------------------------------


def issue_invitations(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    options: InvitationIssue,
    outbox: mail.Outbox,
    *,
    request_id: str | None,
) -> Delivery:
    """A link for every expected centre without a live one, e-mailed when ``options.send`` is
    set. The answer is the only copy of the links."""
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    outbox.check(send=options.send)
    live = set(
        session.scalars(
            select(Invitation.centre_id).where(
                Invitation.campaign_id == campaign.id, Invitation.revoked_at.is_(None)
            )
        )
    )
    issued = [
        issue_invitation(session, campaign, centre, expires_at=options.expires_at)
        for centre in expected_centres(session, campaign)
        if centre.id not in live
    ]
    delivery = deliver_links(session, campaign, issued, options, outbox)
    record_campaign_event(
        session,
        actor,
        "invitation.issue",
        campaign,
        request_id=request_id,
        invitation_ids=[line.invitation_id for line in delivery.lines],
        count=len(delivery.lines),
        sent=len(delivery.sent),
        failed=delivery.failed,
    )
    return delivery


def revoke_invitation(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    invitation_id: int,
    *,
    request_id: str | None,
) -> Invitation:
    """Stop a link working at once (its respondent session ends at its next request)."""
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    invitation = get_invitation(session, campaign, invitation_id)
    invitation.revoked_at = invitation.revoked_at or utcnow()
    session.flush()
    record_campaign_event(
        session,
        actor,
        "invitation.revoke",
        campaign,
        request_id=request_id,
        invitation_id=invitation.id,
        centre_id=invitation.centre.public_id,
    )
    return invitation


def reissue_invitation(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    invitation_id: int,
    options: InvitationIssue,
    outbox: mail.Outbox,
    *,
    request_id: str | None,
) -> Delivery:
    """A new link for the invitation's centre, its other links revoked; shown (or e-mailed)
    once."""
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    invitation = get_invitation(session, campaign, invitation_id)
    outbox.check(send=options.send)
    renewal = renew_links(session, campaign, invitation.centre, expires_at=options.expires_at)
    delivery = deliver_links(
        session, campaign, [renewal.issued], options, outbox, revoked=renewal.revoked
    )
    record_campaign_event(
        session,
        actor,
        "invitation.reissue",
        campaign,
        request_id=request_id,
        revoked=renewal.revoked,
        invitation_ids=[renewal.issued.invitation.id],
        sent=len(delivery.sent),
    )
    return delivery
