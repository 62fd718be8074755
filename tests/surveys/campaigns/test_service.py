"""Campaign services the coordinator uses: choosing questionnaires and centres, reopening,
invitation states, renewals and reminders, contact addresses."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy.orm import Session

from surveys.campaigns.models import Campaign, Invitation
from surveys.campaigns.service import (
    CampaignStateConflict,
    campaign_versions,
    centres_not_submitted,
    choose_centres,
    choose_versions,
    close_campaign,
    contact_emails,
    invitation_state,
    issue_invitation,
    issue_invitations,
    remind_not_submitted,
    renew_invitation,
    reopen_campaign,
    revoke_invitation,
)
from surveys.db import utcnow
from surveys.errors import InvalidInput
from surveys.registry.models import Centre, Contact
from surveys.responses.service import submit
from tests.builders import SMALL_FORM, make_campaign, make_centre, make_published_form

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
SMALL_FORM_V2 = SMALL_FORM.replace("| pet_small | 1 ", "| pet_small | 2 ").replace(
    "| Notes     | Notes ", "| Comments  | Notes "
)


def loc_of(exc: pytest.ExceptionInfo[InvalidInput]) -> tuple[str | int, ...]:
    return exc.value.errors[0].loc


class TestChooseVersions:
    def test_the_latest_published_unless_a_version_is_named(self, session: Session) -> None:
        first = make_published_form(session)
        second = make_published_form(session, SMALL_FORM_V2)
        assert choose_versions(session, [("pet_small", None)]) == [second]
        assert choose_versions(session, [("pet_small", "1")]) == [first]

    def test_refusals_name_the_choice(self, session: Session) -> None:
        make_published_form(session)
        with pytest.raises(InvalidInput) as unknown:
            choose_versions(session, [("pet_small", None), ("missing", None)])
        assert loc_of(unknown) == ("questionnaires", 1)
        with pytest.raises(InvalidInput) as twice:
            choose_versions(session, [("pet_small", None), ("pet_small", "1")])
        assert "chosen twice" in twice.value.errors[0].msg
        with pytest.raises(InvalidInput):
            choose_versions(session, [])


class TestChooseCentres:
    def test_all_active_by_country_or_by_id(self, session: Session) -> None:
        lyon = make_centre(session, name="Lyon", country="FR")
        milan = make_centre(session, name="Milan", country="IT")
        closed = make_centre(session, name="Closed", country="IT")
        closed.active = False
        assert choose_centres(session, scope="all") == [lyon, milan]
        assert choose_centres(session, scope="countries", countries=["it"]) == [milan]
        chosen = choose_centres(session, scope="ids", centre_ids=[closed.public_id, lyon.public_id])
        assert chosen == [lyon, closed]

    @pytest.mark.parametrize(
        ("scope", "arguments", "loc"),
        [
            ("countries", {"countries": ["QQ"]}, ("countries",)),
            ("countries", {"countries": ["DE"]}, ("centre_scope",)),
            ("ids", {"centre_ids": ["nope"]}, ("centre_ids",)),
            ("ids", {}, ("centre_ids",)),
            ("everything", {}, ("centre_scope",)),
        ],
    )
    def test_refusals(
        self, session: Session, scope: str, arguments: dict[str, list[str]], loc: tuple[str]
    ) -> None:
        make_centre(session, country="FR")
        with pytest.raises(InvalidInput) as refused:
            choose_centres(session, scope=scope, **arguments)
        assert loc_of(refused) == loc


def small_campaign(session: Session) -> tuple[Campaign, list[Centre]]:
    """An open campaign of the small PET form sent to two French centres."""
    version = make_published_form(session)
    made = [make_centre(session, name=f"C{i}", country="FR") for i in range(2)]
    campaign = make_campaign(session, slug="small", centres=made, versions=[version])
    return campaign, made


class TestReopen:
    def test_a_new_deadline_extends_the_live_links_that_expired_with_the_old_one(
        self, session: Session
    ) -> None:
        campaign, (a, b) = small_campaign(session)
        campaign.closes_at = NOW - dt.timedelta(days=1)
        live = issue_invitation(session, campaign, a).invitation
        revoked = issue_invitation(session, campaign, b).invitation
        revoke_invitation(session, revoked)
        close_campaign(session, campaign)
        later = NOW + dt.timedelta(days=30)
        reopen_campaign(session, campaign, closes_at=later, now=NOW)
        assert (campaign.status, campaign.closes_at) == ("open", later)
        assert live.expires_at == later
        assert revoked.expires_at == NOW - dt.timedelta(days=1)

    def test_refusals(self, session: Session) -> None:
        campaign, _ = small_campaign(session)
        with pytest.raises(CampaignStateConflict):
            reopen_campaign(session, campaign, closes_at=None, now=NOW)
        close_campaign(session, campaign)
        with pytest.raises(InvalidInput):
            reopen_campaign(session, campaign, closes_at=NOW - dt.timedelta(hours=1), now=NOW)
        campaign.closes_at = NOW - dt.timedelta(days=1)
        with pytest.raises(InvalidInput) as no_deadline:
            reopen_campaign(session, campaign, closes_at=None, now=NOW)
        assert loc_of(no_deadline) == ("closes_at",)


def test_invitation_states(session: Session) -> None:
    campaign, (a, _) = small_campaign(session)
    invitation = issue_invitation(session, campaign, a, expires_at=NOW + dt.timedelta(days=1))
    row = invitation.invitation
    assert invitation_state(row, NOW) == "live"
    row.last_used_at = NOW
    assert invitation_state(row, NOW) == "used"
    assert invitation_state(row, NOW + dt.timedelta(days=2)) == "expired"
    revoke_invitation(session, row)
    assert invitation_state(row, NOW) == "revoked"


def test_renewing_revokes_every_live_link_of_the_centre(session: Session) -> None:
    campaign, (a, b) = small_campaign(session)
    first = issue_invitation(session, campaign, a).invitation
    second = issue_invitation(session, campaign, a).invitation
    other = issue_invitation(session, campaign, b).invitation
    revoke_invitation(session, first)
    renewal = renew_invitation(session, first)
    assert renewal.revoked == [second.id]
    assert second.revoked_at is not None
    assert other.revoked_at is None
    assert renewal.issued.invitation.centre_id == a.id
    assert renewal.issued.invitation.revoked_at is None


def test_reminders_go_to_centres_missing_a_submission(session: Session) -> None:
    campaign, (done, pending) = small_campaign(session)
    [version] = campaign_versions(session, campaign)
    issued = issue_invitations(session, campaign)
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
    [reminder] = remind_not_submitted(session, campaign)
    pending_link = next(i.invitation for i in issued if i.invitation.centre_id == pending.id)
    assert reminder.revoked == [pending_link.id]
    assert reminder.issued.invitation.centre_id == pending.id
    assert reminder.issued.token
    close_campaign(session, campaign)
    with pytest.raises(CampaignStateConflict):
        remind_not_submitted(session, campaign)


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
