"""Reminders: new links for the centres that have not submitted everything, recorded in the
audit log; refused to an actor who may not manage campaigns, and outside an open campaign."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.audit.models import AuditEvent
from surveys.campaigns.errors import CampaignStateConflict
from surveys.campaigns.invitations import issue_invitations
from surveys.campaigns.lifecycle import campaign_versions, close_campaign
from surveys.campaigns.mail import Outbox
from surveys.campaigns.schemas import InvitationIssue
from surveys.db import utcnow
from surveys.policy import PermissionDenied, staff_actor
from surveys.responses.completion import centres_not_submitted
from surveys.responses.reminders import send_reminders
from surveys.responses.submission import submit
from tests.builders import make_campaign, make_centre, make_published_form

COORDINATOR = staff_actor(user_id=7, role="coordinator")
DOMAIN_LEAD = staff_actor(user_id=8, role="domain_lead", domains=["nuclear_medicine"])
OUTBOX = Outbox(base_url="https://survey.example")


def test_reminders_go_to_centres_missing_a_submission(session: Session) -> None:
    done, pending = (make_centre(session, name=f"C{i}", country="FR") for i in range(2))
    campaign = make_campaign(
        session, slug="small", centres=[done, pending], versions=[make_published_form(session)]
    )
    [version] = campaign_versions(session, campaign)
    issued = issue_invitations(
        session, COORDINATOR, campaign, InvitationIssue(), OUTBOX, request_id=None
    )
    submit(
        session,
        submission_uuid=str(uuid.uuid4()),
        campaign=campaign,
        centre=done,
        version=version,
        answers={"has_pet": "no"},
        now=utcnow(),
        actor="test",
    )
    assert centres_not_submitted(session, campaign) == [pending]
    with pytest.raises(PermissionDenied):
        send_reminders(session, DOMAIN_LEAD, campaign, InvitationIssue(), OUTBOX, request_id=None)
    reminders = send_reminders(
        session, COORDINATOR, campaign, InvitationIssue(), OUTBOX, request_id="req-remind"
    )
    pending_link = next(line for line in issued.lines if line.centre_id == pending.public_id)
    [line] = reminders.lines
    assert reminders.revoked == [pending_link.invitation_id]
    assert line.centre_id == pending.public_id
    assert line.link != pending_link.link
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "invitation.remind"))
    assert (event.actor, event.object_id, event.request_id) == ("user:7", "small", "req-remind")
    assert event.details == {
        "revoked": [pending_link.invitation_id],
        "invitation_ids": [line.invitation_id],
        "count": 1,
        "sent": 0,
        "failed": 0,
    }
    close_campaign(session, COORDINATOR, campaign, request_id=None)
    with pytest.raises(CampaignStateConflict):
        send_reminders(session, COORDINATOR, campaign, InvitationIssue(), OUTBOX, request_id=None)
