"""JSON routes of campaigns and invitations: set up, open, close, reopen, issue and remind.

Invitation tokens are never stored, so the answer of an issuing request (JSON, or the CSV for a
mail merge with ``?format=csv``) is the only place their links ever appear.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

from api.auth import CampaignManager, ResponseReader
from api.deps import DbSession, InvitationOutbox
from api.problems import PROBLEM_RESPONSES
from surveys.campaigns import invitations, lifecycle, mail
from surveys.campaigns.invitations import Delivery
from surveys.campaigns.models import Campaign
from surveys.campaigns.schemas import (
    CampaignCreate,
    CampaignDetail,
    CampaignRead,
    CampaignReopen,
    InvitationIssue,
    InvitationRead,
    IssuedLinkRead,
    IssueResult,
)
from surveys.db import utcnow
from surveys.responses import completion as progress
from surveys.responses import reminders
from surveys.responses.schemas import CompletionRead

router = APIRouter(prefix="/campaigns", tags=["campaigns"], responses=PROBLEM_RESPONSES)

Output = Annotated[Literal["json", "csv"], Query(alias="format")]
IssueOptions = Annotated[InvitationIssue | None, Body()]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "the mail-merge CSV"}
}


def _links(
    campaign: Campaign, delivery: Delivery, outbox: mail.Outbox, output: str, kind: str
) -> IssueResult | Response:
    """The just-issued links: the mail-merge CSV (a download no cache keeps), or JSON."""
    if output == "csv":
        name = mail.links_csv_filename(campaign.slug, kind, utcnow())
        return Response(
            mail.links_csv(delivery.lines),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )
    return IssueResult(
        issued=[
            IssuedLinkRead(
                invitation_id=line.invitation_id,
                centre_id=line.centre_id,
                centre_name=line.centre_name,
                country=line.country,
                contact_email=line.contact_email,
                link=line.link,
                expires_at=line.expires_at,
                sent=line.invitation_id in delivery.sent,
            )
            for line in delivery.lines
        ],
        revoked=delivery.revoked,
        sent=len(delivery.sent),
        failed=delivery.failed,
        without_address=delivery.without_address,
        smtp_configured=outbox.smtp is not None,
    )


def _detail(session: DbSession, campaign: Campaign) -> CampaignDetail:
    return CampaignDetail.of_campaign(
        campaign,
        utcnow(),
        versions=lifecycle.campaign_versions(session, campaign),
        centres=lifecycle.count_expected_centres(session, campaign),
    )


@router.get("")
def list_campaigns(session: DbSession, actor: ResponseReader) -> list[CampaignRead]:
    """Every campaign you may see, newest first (a domain lead: those asking their domains)."""
    now = utcnow()
    return [CampaignRead.of(c, now) for c in lifecycle.visible_campaigns(session, actor)]


@router.post("", status_code=201)
def create_campaign(
    request: Request,
    session: DbSession,
    actor: CampaignManager,
    data: CampaignCreate,
    response: Response,
) -> CampaignDetail:
    """A campaign in draft: questionnaires (latest published unless a version is named) and
    centres (all active ones, those of some countries, or a list of ids)."""
    campaign = lifecycle.create_campaign(session, actor, data, request_id=request.state.request_id)
    response.headers["Location"] = f"/api/v1/campaigns/{campaign.slug}"
    return _detail(session, campaign)


@router.get("/{slug}")
def read_campaign(session: DbSession, actor: ResponseReader, slug: str) -> CampaignDetail:
    """One campaign with its questionnaires and the number of centres asked (a domain lead:
    the questionnaires of their domains, the centres of their countries)."""
    campaign = lifecycle.visible_campaign(session, actor, slug)
    return CampaignDetail.of_campaign(
        campaign,
        utcnow(),
        versions=lifecycle.visible_versions(session, actor, campaign),
        centres=lifecycle.count_visible_centres(session, actor, campaign),
    )


@router.post("/{slug}/open")
def open_campaign(
    request: Request, session: DbSession, actor: CampaignManager, slug: str
) -> CampaignDetail:
    """Start collection (a draft campaign)."""
    campaign = lifecycle.get_campaign(session, slug)
    lifecycle.open_campaign(session, actor, campaign, request_id=request.state.request_id)
    return _detail(session, campaign)


@router.post("/{slug}/close")
def close_campaign(
    request: Request, session: DbSession, actor: CampaignManager, slug: str
) -> CampaignDetail:
    """Stop collection: drafts stay readable, nothing can be saved or submitted."""
    campaign = lifecycle.get_campaign(session, slug)
    lifecycle.close_campaign(session, actor, campaign, request_id=request.state.request_id)
    return _detail(session, campaign)


@router.post("/{slug}/reopen")
def reopen_campaign(
    request: Request,
    session: DbSession,
    actor: CampaignManager,
    slug: str,
    data: Annotated[CampaignReopen | None, Body()] = None,
) -> CampaignDetail:
    """Reopen a closed campaign, with a new deadline when the old one has passed."""
    campaign = lifecycle.get_campaign(session, slug)
    lifecycle.reopen_campaign(
        session,
        actor,
        campaign,
        closes_at=data.closes_at if data else None,
        now=utcnow(),
        request_id=request.state.request_id,
    )
    return _detail(session, campaign)


@router.get("/{slug}/completion")
def completion(session: DbSession, actor: ResponseReader, slug: str) -> CompletionRead:
    """Centres invited, started and submitted, by country and by domain (drafts only count
    as started). A domain lead sees the figures of their domains."""
    campaign = lifecycle.visible_campaign(session, actor, slug)
    return CompletionRead.of(campaign.slug, progress.completion(session, actor, campaign))


@router.get("/{slug}/invitations")
def list_invitations(session: DbSession, actor: CampaignManager, slug: str) -> list[InvitationRead]:
    """Every invitation of the campaign and its state; never a token."""
    campaign = lifecycle.get_campaign(session, slug)
    now = utcnow()
    return [InvitationRead.of(i, now) for i in invitations.list_invitations(session, campaign)]


@router.post(
    "/{slug}/invitations", status_code=201, response_model=IssueResult, responses=CSV_RESPONSE
)
def issue_invitations(
    request: Request,
    session: DbSession,
    outbox: InvitationOutbox,
    actor: CampaignManager,
    slug: str,
    options: IssueOptions = None,
    output: Output = "json",
) -> IssueResult | Response:
    """A link for every expected centre without a live one; e-mailed when ``send`` is set.
    This answer is the only copy of the links."""
    campaign = lifecycle.get_campaign(session, slug)
    delivery = invitations.issue_invitations(
        session,
        actor,
        campaign,
        options or InvitationIssue(),
        outbox,
        request_id=request.state.request_id,
    )
    return _links(campaign, delivery, outbox, output, "invitations")


@router.post("/{slug}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    request: Request, session: DbSession, actor: CampaignManager, slug: str, invitation_id: int
) -> InvitationRead:
    """Stop a link working at once (its respondent session ends at the next request)."""
    campaign = lifecycle.get_campaign(session, slug)
    invitation = invitations.revoke_invitation(
        session, actor, campaign, invitation_id, request_id=request.state.request_id
    )
    return InvitationRead.of(invitation, utcnow())


@router.post(
    "/{slug}/invitations/{invitation_id}/reissue",
    status_code=201,
    response_model=IssueResult,
    responses=CSV_RESPONSE,
)
def reissue_invitation(
    request: Request,
    session: DbSession,
    outbox: InvitationOutbox,
    actor: CampaignManager,
    slug: str,
    invitation_id: int,
    options: IssueOptions = None,
    output: Output = "json",
) -> IssueResult | Response:
    """Revoke a link and issue a new one for the same centre (shown here once)."""
    campaign = lifecycle.get_campaign(session, slug)
    delivery = invitations.reissue_invitation(
        session,
        actor,
        campaign,
        invitation_id,
        options or InvitationIssue(),
        outbox,
        request_id=request.state.request_id,
    )
    return _links(campaign, delivery, outbox, output, "invitation")


@router.post(
    "/{slug}/reminders", status_code=201, response_model=IssueResult, responses=CSV_RESPONSE
)
def send_reminders(
    request: Request,
    session: DbSession,
    outbox: InvitationOutbox,
    actor: CampaignManager,
    slug: str,
    options: IssueOptions = None,
    output: Output = "json",
) -> IssueResult | Response:
    """Remind every centre that has not submitted everything: their links are re-issued (the
    old ones stop working) and, with ``send``, e-mailed as a reminder."""
    campaign = lifecycle.get_campaign(session, slug)
    delivery = reminders.send_reminders(
        session,
        actor,
        campaign,
        options or InvitationIssue(),
        outbox,
        request_id=request.state.request_id,
    )
    return _links(campaign, delivery, outbox, output, "reminders")
