"""JSON routes of campaigns and invitations: set up, open, close, reopen, issue and remind.

Invitation tokens are never stored, so the answer of an issuing request (JSON, or the CSV for a
mail merge with ``?format=csv``) is the only place their links ever appear.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

from api.auth import CampaignManager, ResponseReader
from api.deps import AppSettings, DbSession
from api.problems import PROBLEM_RESPONSES
from api.settings import Settings
from surveys.audit import service as audit
from surveys.campaigns import mail
from surveys.campaigns import service as campaigns
from surveys.campaigns.models import Campaign
from surveys.campaigns.schemas import (
    CampaignCreate,
    CampaignDetail,
    CampaignRead,
    CampaignReopen,
    CompletionRead,
    InvitationIssue,
    InvitationRead,
    IssuedLinkRead,
    IssueResult,
)
from surveys.db import utcnow
from surveys.policy import Actor
from surveys.responses import queries

router = APIRouter(prefix="/campaigns", tags=["campaigns"], responses=PROBLEM_RESPONSES)

Output = Annotated[Literal["json", "csv"], Query(alias="format")]
IssueOptions = Annotated[InvitationIssue | None, Body()]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "the mail-merge CSV"}
}


def smtp_config(settings: Settings) -> mail.SmtpConfig | None:
    """The SMTP relay, when this deployment has one."""
    if not settings.smtp_host:
        return None
    return mail.SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        starttls=settings.smtp_starttls,
    )


def links_csv_response(campaign: Campaign, delivery: mail.Delivery, kind: str) -> Response:
    """The mail-merge CSV as a download that no cache keeps."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return Response(
        mail.links_csv(delivery.lines),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{campaign.slug}-{kind}-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


def issue_result(
    delivery: mail.Delivery, *, smtp: mail.SmtpConfig | None, revoked: list[int]
) -> IssueResult:
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
        revoked=revoked,
        sent=len(delivery.sent),
        failed=delivery.failed,
        without_address=delivery.without_address,
        smtp_configured=smtp is not None,
    )


def _detail(session: DbSession, campaign: Campaign) -> CampaignDetail:
    return CampaignDetail.of_campaign(
        campaign,
        utcnow(),
        versions=campaigns.campaign_versions(session, campaign),
        centres=campaigns.count_expected_centres(session, campaign),
    )


def _record(
    request: Request,
    session: DbSession,
    actor: Actor,
    action: str,
    campaign: Campaign,
    **details: object,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="campaign",
        object_id=campaign.slug,
        details=details,
        request_id=request.state.request_id,
    )


@router.get("")
def list_campaigns(session: DbSession, actor: ResponseReader) -> list[CampaignRead]:
    """Every campaign, newest first."""
    now = utcnow()
    return [CampaignRead.of(c, now) for c in campaigns.list_campaigns(session)]


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
    campaign = campaigns.create_campaign(
        session,
        slug=data.slug,
        name=data.name,
        versions=campaigns.choose_versions(
            session, [(q.form_id, q.version) for q in data.questionnaires]
        ),
        centres=campaigns.choose_centres(
            session, scope=data.centre_scope, countries=data.countries, centre_ids=data.centre_ids
        ),
        opens_at=data.opens_at,
        closes_at=data.closes_at,
    )
    detail = _detail(session, campaign)
    _record(
        request,
        session,
        actor,
        "campaign.create",
        campaign,
        questionnaires=[f"{q.form_id}@{q.version}" for q in detail.questionnaires],
        centres=detail.centres,
    )
    response.headers["Location"] = f"/api/v1/campaigns/{campaign.slug}"
    return detail


@router.get("/{slug}")
def read_campaign(session: DbSession, actor: ResponseReader, slug: str) -> CampaignDetail:
    """One campaign with its questionnaires and the number of centres asked."""
    return _detail(session, campaigns.get_campaign(session, slug))


@router.post("/{slug}/open")
def open_campaign(
    request: Request, session: DbSession, actor: CampaignManager, slug: str
) -> CampaignDetail:
    """Start collection (a draft campaign)."""
    campaign = campaigns.get_campaign(session, slug)
    campaigns.open_draft_campaign(session, campaign)
    _record(request, session, actor, "campaign.open", campaign)
    return _detail(session, campaign)


@router.post("/{slug}/close")
def close_campaign(
    request: Request, session: DbSession, actor: CampaignManager, slug: str
) -> CampaignDetail:
    """Stop collection: drafts stay readable, nothing can be saved or submitted."""
    campaign = campaigns.get_campaign(session, slug)
    campaigns.close_campaign(session, campaign)
    _record(request, session, actor, "campaign.close", campaign)
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
    campaign = campaigns.get_campaign(session, slug)
    closes_at = data.closes_at if data else None
    campaigns.reopen_campaign(session, campaign, closes_at=closes_at, now=utcnow())
    _record(
        request,
        session,
        actor,
        "campaign.reopen",
        campaign,
        closes_at=campaign.closes_at.isoformat() if campaign.closes_at else None,
    )
    return _detail(session, campaign)


@router.get("/{slug}/completion")
def completion(session: DbSession, actor: ResponseReader, slug: str) -> CompletionRead:
    """Centres invited, started and submitted, by country and by domain (drafts only count
    as started). A domain lead sees the figures of their domains."""
    campaign = campaigns.get_campaign(session, slug)
    return CompletionRead.of(campaign.slug, queries.completion(session, actor, campaign))


@router.get("/{slug}/invitations")
def list_invitations(session: DbSession, actor: CampaignManager, slug: str) -> list[InvitationRead]:
    """Every invitation of the campaign and its state; never a token."""
    campaign = campaigns.get_campaign(session, slug)
    now = utcnow()
    return [InvitationRead.of(i, now) for i in campaigns.list_invitations(session, campaign)]


@router.post(
    "/{slug}/invitations", status_code=201, response_model=IssueResult, responses=CSV_RESPONSE
)
def issue_invitations(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: CampaignManager,
    slug: str,
    options: IssueOptions = None,
    output: Output = "json",
) -> IssueResult | Response:
    """A link for every expected centre without a live one; e-mailed when ``send`` is set.
    This answer is the only copy of the links."""
    options = options or InvitationIssue()
    campaign = campaigns.get_campaign(session, slug)
    smtp = smtp_config(settings)
    issued = campaigns.issue_invitations(session, campaign, expires_at=options.expires_at)
    delivery = mail.deliver_links(
        session,
        campaign,
        issued,
        base_url=settings.base_url,
        smtp=smtp,
        send=options.send,
        now=utcnow(),
        language=options.language,
    )
    _record(
        request,
        session,
        actor,
        "invitation.issue",
        campaign,
        invitation_ids=[i.invitation.id for i in issued],
        count=len(issued),
        sent=len(delivery.sent),
        failed=delivery.failed,
    )
    if output == "csv":
        return links_csv_response(campaign, delivery, "invitations")
    return issue_result(delivery, smtp=smtp, revoked=[])


@router.post("/{slug}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    request: Request, session: DbSession, actor: CampaignManager, slug: str, invitation_id: int
) -> InvitationRead:
    """Stop a link working at once (its respondent session ends at the next request)."""
    campaign = campaigns.get_campaign(session, slug)
    invitation = campaigns.get_invitation(session, campaign, invitation_id)
    campaigns.revoke_invitation(session, invitation)
    _record(
        request,
        session,
        actor,
        "invitation.revoke",
        campaign,
        invitation_id=invitation.id,
        centre_id=invitation.centre.public_id,
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
    settings: AppSettings,
    actor: CampaignManager,
    slug: str,
    invitation_id: int,
    options: IssueOptions = None,
    output: Output = "json",
) -> IssueResult | Response:
    """Revoke a link and issue a new one for the same centre (shown here once)."""
    options = options or InvitationIssue()
    campaign = campaigns.get_campaign(session, slug)
    invitation = campaigns.get_invitation(session, campaign, invitation_id)
    renewal = campaigns.renew_invitation(session, invitation, expires_at=options.expires_at)
    smtp = smtp_config(settings)
    delivery = mail.deliver_links(
        session,
        campaign,
        [renewal.issued],
        base_url=settings.base_url,
        smtp=smtp,
        send=options.send,
        now=utcnow(),
        language=options.language,
    )
    _record(
        request,
        session,
        actor,
        "invitation.reissue",
        campaign,
        revoked=renewal.revoked,
        invitation_ids=[renewal.issued.invitation.id],
        sent=len(delivery.sent),
    )
    if output == "csv":
        return links_csv_response(campaign, delivery, "invitation")
    return issue_result(delivery, smtp=smtp, revoked=renewal.revoked)


@router.post(
    "/{slug}/reminders", status_code=201, response_model=IssueResult, responses=CSV_RESPONSE
)
def send_reminders(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: CampaignManager,
    slug: str,
    options: IssueOptions = None,
    output: Output = "json",
) -> IssueResult | Response:
    """Remind every centre that has not submitted everything: their links are re-issued (the
    old ones stop working) and, with ``send``, e-mailed as a reminder."""
    options = options or InvitationIssue()
    campaign = campaigns.get_campaign(session, slug)
    smtp = smtp_config(settings)
    reminders = campaigns.remind_not_submitted(session, campaign, expires_at=options.expires_at)
    delivery = mail.deliver_links(
        session,
        campaign,
        [r.issued for r in reminders],
        base_url=settings.base_url,
        smtp=smtp,
        send=options.send,
        now=utcnow(),
        language=options.language,
        reminder=True,
    )
    revoked = [i for r in reminders for i in r.revoked]
    _record(
        request,
        session,
        actor,
        "invitation.remind",
        campaign,
        revoked=revoked,
        invitation_ids=[r.issued.invitation.id for r in reminders],
        count=len(reminders),
        sent=len(delivery.sent),
        failed=delivery.failed,
    )
    if output == "csv":
        return links_csv_response(campaign, delivery, "reminders")
    return issue_result(delivery, smtp=smtp, revoked=revoked)
