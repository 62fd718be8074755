"""Invitations: links stored as hashes, their states, renewals, contact addresses, and the
issue, revoke and re-issue use cases with their permission check and audit event."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.audit.models import AuditEvent
from surveys.campaigns.errors import InvitationNotFound
from surveys.campaigns.invitations import (
    contact_emails,
    issue_invitation,
    issue_invitations,
    reissue_invitation,
    renew_links,
    revoke_invitation,
)
from surveys.campaigns.mail import Outbox
from surveys.campaigns.models import Campaign, Invitation
from surveys.campaigns.schemas import InvitationIssue
from surveys.errors import InvalidInput
from surveys.policy import PermissionDenied, staff_actor
from surveys.registry.models import Centre, Contact
from tests.builders import make_campaign, make_centre, make_published_form

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
COORDINATOR = staff_actor(user_id=7, role="coordinator")
RESEARCHER = staff_actor(user_id=9, role="researcher")
OUTBOX = Outbox(base_url="https://survey.example")


def small_campaign(session: Session) -> tuple[Campaign, list[Centre]]:
    """An open campaign of the small PET form sent to two French centres."""
    version = make_published_form(session)
    made = [make_centre(session, name=f"C{i}", country="FR") for i in range(2)]
    campaign = make_campaign(session, slug="small", centres=made, versions=[version])
    return campaign, made


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def test_invitation_states(session: Session) -> None:
    campaign, (a, _) = small_campaign(session)
    invitation = issue_invitation(session, campaign, a, expires_at=NOW + dt.timedelta(days=1))
    row = invitation.invitation
    assert row.state(NOW) == "live"
    row.last_used_at = NOW
    assert row.state(NOW) == "used"
    assert row.state(NOW + dt.timedelta(days=2)) == "expired"
    revoke_invitation(session, COORDINATOR, campaign, row.id, request_id=None)
    assert row.state(NOW) == "revoked"


def test_renewing_revokes_every_live_link_of_the_centre(session: Session) -> None:
    campaign, (a, b) = small_campaign(session)
    first = issue_invitation(session, campaign, a).invitation
    second = issue_invitation(session, campaign, a).invitation
    other = issue_invitation(session, campaign, b).invitation
    revoke_invitation(session, COORDINATOR, campaign, first.id, request_id=None)
    renewal = renew_links(session, campaign, a, expires_at=None)
    assert renewal.revoked == [second.id]
    assert second.revoked_at is not None
    assert other.revoked_at is None
    assert renewal.issued.invitation.centre_id == a.id
    assert renewal.issued.invitation.revoked_at is None


def test_contact_emails_skip_erased_and_empty_ones(session: Session) -> None:
    a = make_centre(session, name="A")
    b = make_centre(session, name="B")
    session.add_all(
        [
            Contact(centre_id=a.id, name="Gone", email="gone@a.example", erased_at=NOW),
            Contact(centre_id=a.id, name="No address", email=None),
            Contact(centre_id=a.id, name="First", email="first@a.example"),
            Contact(centre_id=a.id, name="Second", email="second@a.example"),
            Contact(centre_id=b.id, name="Blank", email="  "),
        ]
    )
    session.flush()
    assert contact_emails(session, [a.id, b.id]) == {a.id: "first@a.example"}


def test_invitations_store_only_a_hash(session: Session) -> None:
    campaign, (a, _) = small_campaign(session)
    issued = issue_invitation(session, campaign, a)
    stored = session.get_one(Invitation, issued.invitation.id)
    assert stored.token_hash != issued.token
    assert len(stored.token_hash) == 64


class TestUseCases:
    def test_issuing_gives_each_centre_without_a_link_one_and_is_audited(
        self, session: Session
    ) -> None:
        campaign, (a, b) = small_campaign(session)
        issue_invitation(session, campaign, a)
        delivery = issue_invitations(
            session, COORDINATOR, campaign, InvitationIssue(), OUTBOX, request_id="req-issue"
        )
        [line] = delivery.lines
        assert line.centre_id == b.public_id
        assert line.link.startswith("https://survey.example/i/")
        [event] = events(session, "invitation.issue")
        assert (event.actor, event.object_type, event.object_id) == ("user:7", "campaign", "small")
        assert event.request_id == "req-issue"
        assert event.details == {
            "invitation_ids": [line.invitation_id],
            "count": 1,
            "sent": 0,
            "failed": 0,
        }
        again = issue_invitations(
            session, COORDINATOR, campaign, InvitationIssue(), OUTBOX, request_id=None
        )
        assert again.lines == []
        assert events(session, "invitation.issue")[-1].details["count"] == 0

    def test_sending_without_a_relay_issues_nothing(self, session: Session) -> None:
        campaign, _ = small_campaign(session)
        with pytest.raises(InvalidInput, match="nothing was issued") as refused:
            issue_invitations(
                session,
                COORDINATOR,
                campaign,
                InvitationIssue(send=True),
                OUTBOX,
                request_id=None,
            )
        assert refused.value.errors[0].loc == ("send",)
        assert session.scalars(select(Invitation)).all() == []
        assert events(session, "invitation.issue") == []

    def test_revoking_is_audited_with_the_centre(self, session: Session) -> None:
        campaign, (a, _) = small_campaign(session)
        link = issue_invitation(session, campaign, a).invitation
        revoked = revoke_invitation(session, COORDINATOR, campaign, link.id, request_id="req-r")
        assert revoked.revoked_at is not None
        [event] = events(session, "invitation.revoke")
        assert event.details == {"invitation_id": link.id, "centre_id": a.public_id}
        with pytest.raises(InvitationNotFound):
            revoke_invitation(session, COORDINATOR, campaign, 2**31 - 1, request_id=None)

    def test_reissuing_revokes_the_old_link_and_is_audited(self, session: Session) -> None:
        campaign, (a, _) = small_campaign(session)
        old = issue_invitation(session, campaign, a).invitation
        delivery = reissue_invitation(
            session, COORDINATOR, campaign, old.id, InvitationIssue(), OUTBOX, request_id=None
        )
        [line] = delivery.lines
        assert delivery.revoked == [old.id]
        assert old.revoked_at is not None
        [event] = events(session, "invitation.reissue")
        assert event.details == {
            "revoked": [old.id],
            "invitation_ids": [line.invitation_id],
            "sent": 0,
        }

    def test_an_actor_who_may_not_manage_campaigns_issues_nothing(self, session: Session) -> None:
        campaign, (a, _) = small_campaign(session)
        link = issue_invitation(session, campaign, a).invitation
        with pytest.raises(PermissionDenied):
            issue_invitations(
                session, RESEARCHER, campaign, InvitationIssue(), OUTBOX, request_id=None
            )
        with pytest.raises(PermissionDenied):
            revoke_invitation(session, RESEARCHER, campaign, link.id, request_id=None)
        with pytest.raises(PermissionDenied):
            reissue_invitation(
                session, RESEARCHER, campaign, link.id, InvitationIssue(), OUTBOX, request_id=None
            )
        assert session.scalars(select(Invitation)).all() == [link]
        assert link.revoked_at is None
        assert session.scalars(select(AuditEvent).where(AuditEvent.actor == "user:9")).all() == []
