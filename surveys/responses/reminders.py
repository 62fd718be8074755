"""Reminders: a new link for every centre that has not submitted everything, e-mailed as a
reminder when asked (only hashes of links are stored, so a reminder that carries a link must
re-issue it, and the centre's old links stop working).

Reminders live with the responses because whom to remind depends on what was submitted: the
campaigns package never reads responses.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveys.audit.service import record
from surveys.campaigns.errors import CampaignStateConflict
from surveys.campaigns.invitations import Delivery, deliver_links, renew_links
from surveys.campaigns.mail import Outbox
from surveys.campaigns.models import Campaign, CampaignStatus
from surveys.campaigns.schemas import InvitationIssue
from surveys.policy import Actor, Permission, authorize
from surveys.responses.completion import centres_not_submitted


def send_reminders(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    options: InvitationIssue,
    outbox: Outbox,
    *,
    request_id: str | None,
) -> Delivery:
    """Re-issue the link of every expected centre that has not submitted everything (and
    e-mail it as a reminder with ``options.send``); only while the campaign is open."""
    authorize(actor, Permission.CAMPAIGNS_MANAGE)
    if campaign.status != CampaignStatus.OPEN:
        raise CampaignStateConflict(
            f"Reminders go out while the campaign is open; this one is {campaign.status}."
        )
    outbox.check(send=options.send)
    renewals = [
        renew_links(session, campaign, centre, expires_at=options.expires_at)
        for centre in centres_not_submitted(session, campaign)
    ]
    revoked = [i for r in renewals for i in r.revoked]
    delivery = deliver_links(
        session,
        campaign,
        [r.issued for r in renewals],
        options,
        outbox,
        revoked=revoked,
        reminder=True,
    )
    record(
        session,
        actor=actor,
        action="invitation.remind",
        object_type="campaign",
        object_id=campaign.slug,
        details={
            "revoked": revoked,
            "invitation_ids": [r.issued.invitation.id for r in renewals],
            "count": len(renewals),
            "sent": len(delivery.sent),
            "failed": delivery.failed,
        },
        request_id=request_id,
    )
    return delivery
