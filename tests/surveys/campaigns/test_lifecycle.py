"""A campaign's life: creating, opening, closing and reopening it, each use case checked for
its permission and recorded in the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.audit.models import AuditEvent
from surveys.campaigns.errors import CampaignStateConflict
from surveys.campaigns.invitations import issue_invitation, revoke_invitation
from surveys.campaigns.lifecycle import (
    close_campaign,
    create_campaign,
    create_synthetic_campaign,
    open_campaign,
    reopen_campaign,
)
from surveys.campaigns.models import Campaign, CampaignStatus
from surveys.campaigns.schemas import CampaignCreate
from surveys.errors import InvalidInput
from surveys.policy import PermissionDenied, staff_actor
from surveys.registry.models import Centre
from tests.builders import make_campaign, make_centre, make_published_form

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
COORDINATOR = staff_actor(user_id=7, role="coordinator")
DOMAIN_LEAD = staff_actor(user_id=8, role="domain_lead", domains=["nuclear_medicine"])


def loc_of(exc: pytest.ExceptionInfo[InvalidInput]) -> tuple[str | int, ...]:
    return exc.value.errors[0].loc


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def small_campaign(session: Session) -> tuple[Campaign, list[Centre]]:
    """An open campaign of the small PET form sent to two French centres."""
    version = make_published_form(session)
    made = [make_centre(session, name=f"C{i}", country="FR") for i in range(2)]
    campaign = make_campaign(session, slug="small", centres=made, versions=[version])
    return campaign, made


class TestCreate:
    def test_a_draft_campaign_and_its_audit_event(self, session: Session) -> None:
        make_published_form(session)
        make_centre(session, name="Lyon", country="FR")
        make_centre(session, name="Milan", country="IT")
        request = CampaignCreate.model_validate(
            {
                "slug": "wave-9",
                "name": "Wave 9",
                "questionnaires": [{"form_id": "pet_small"}],
                "centre_scope": "countries",
                "countries": ["fr"],
            }
        )
        campaign = create_campaign(session, COORDINATOR, request, request_id="req-1")
        assert (campaign.status, campaign.is_synthetic) == (CampaignStatus.DRAFT, False)
        [event] = events(session, "campaign.create")
        assert (event.actor, event.actor_role, event.request_id) == (
            "user:7",
            "coordinator",
            "req-1",
        )
        assert (event.object_type, event.object_id) == ("campaign", "wave-9")
        assert event.details == {"questionnaires": ["pet_small@1"], "centres": 1}
        with pytest.raises(CampaignStateConflict, match="already exists"):
            create_campaign(session, COORDINATOR, request, request_id=None)

    def test_a_synthetic_campaign_is_marked_and_audited(self, session: Session) -> None:
        version = make_published_form(session)
        centre = make_centre(session)
        campaign = create_synthetic_campaign(
            session,
            COORDINATOR,
            slug="demo-x",
            name="Demo",
            versions=[version],
            centres=[centre],
            request_id=None,
        )
        assert campaign.is_synthetic
        assert events(session, "campaign.create")[0].details["centres"] == 1


class TestOpenAndClose:
    def test_each_change_is_audited(self, session: Session) -> None:
        version = make_published_form(session)
        campaign = make_campaign(
            session,
            slug="wave-2",
            centres=[make_centre(session)],
            versions=[version],
            open_now=False,
        )
        open_campaign(session, COORDINATOR, campaign, request_id="req-open")
        close_campaign(session, COORDINATOR, campaign, request_id="req-close")
        assert campaign.status == CampaignStatus.CLOSED
        [opened] = [e for e in events(session, "campaign.open") if e.actor == "user:7"]
        [closed] = events(session, "campaign.close")
        assert (opened.object_id, opened.request_id, opened.details) == ("wave-2", "req-open", {})
        assert (closed.object_id, closed.request_id) == ("wave-2", "req-close")

    def test_only_a_draft_is_opened(self, session: Session) -> None:
        campaign, _ = small_campaign(session)
        with pytest.raises(CampaignStateConflict, match="only a draft is opened"):
            open_campaign(session, COORDINATOR, campaign, request_id=None)


class TestReopen:
    def test_a_new_deadline_extends_the_live_links_that_expired_with_the_old_one(
        self, session: Session
    ) -> None:
        campaign, (a, b) = small_campaign(session)
        campaign.closes_at = NOW - dt.timedelta(days=1)
        live = issue_invitation(session, campaign, a).invitation
        revoked = issue_invitation(session, campaign, b).invitation
        revoke_invitation(session, COORDINATOR, campaign, revoked.id, request_id=None)
        close_campaign(session, COORDINATOR, campaign, request_id=None)
        later = NOW + dt.timedelta(days=30)
        reopen_campaign(
            session, COORDINATOR, campaign, closes_at=later, now=NOW, request_id="req-reopen"
        )
        assert (campaign.status, campaign.closes_at) == ("open", later)
        assert live.expires_at == later
        assert revoked.expires_at == NOW - dt.timedelta(days=1)
        [event] = events(session, "campaign.reopen")
        assert (event.object_id, event.request_id) == ("small", "req-reopen")
        assert event.details == {"closes_at": later.isoformat()}

    def test_refusals(self, session: Session) -> None:
        campaign, _ = small_campaign(session)
        with pytest.raises(CampaignStateConflict):
            reopen_campaign(
                session, COORDINATOR, campaign, closes_at=None, now=NOW, request_id=None
            )
        close_campaign(session, COORDINATOR, campaign, request_id=None)
        with pytest.raises(InvalidInput):
            reopen_campaign(
                session,
                COORDINATOR,
                campaign,
                closes_at=NOW - dt.timedelta(hours=1),
                now=NOW,
                request_id=None,
            )
        campaign.closes_at = NOW - dt.timedelta(days=1)
        with pytest.raises(InvalidInput) as no_deadline:
            reopen_campaign(
                session, COORDINATOR, campaign, closes_at=None, now=NOW, request_id=None
            )
        assert loc_of(no_deadline) == ("closes_at",)
        assert events(session, "campaign.reopen") == []


def test_an_actor_who_may_not_manage_campaigns_changes_nothing(session: Session) -> None:
    campaign, _ = small_campaign(session)
    request = CampaignCreate.model_validate(
        {"slug": "wave-3", "name": "W", "questionnaires": [{"form_id": "pet_small"}]}
    )
    with pytest.raises(PermissionDenied):
        create_campaign(session, DOMAIN_LEAD, request, request_id=None)
    with pytest.raises(PermissionDenied):
        close_campaign(session, DOMAIN_LEAD, campaign, request_id=None)
    with pytest.raises(PermissionDenied):
        reopen_campaign(session, DOMAIN_LEAD, campaign, closes_at=None, now=NOW, request_id=None)
    assert campaign.status == CampaignStatus.OPEN
    assert session.scalar(select(Campaign).where(Campaign.slug == "wave-3")) is None
    assert [e.actor for e in events(session, "campaign.close")] == []
