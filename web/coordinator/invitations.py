"""Coordinator pages for invitations: issuing links (CSV or e-mail), reminders, revoking and
re-issuing one link.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import CampaignManager
from api.deps import AppSettings, DbSession
from api.v1.campaigns import links_csv_response, smtp_config
from surveys.audit import service as audit
from surveys.campaigns import mail
from surveys.campaigns import service as campaigns
from surveys.campaigns.models import Campaign
from surveys.campaigns.schemas import InvitationRead
from surveys.db import utcnow
from surveys.errors import DomainError
from surveys.policy import Actor
from web.forms import (
    FormErrors,
    FormText,
    clean_text,
    render,
    request_id,
)

router = APIRouter(prefix="/coordinator")


def _audit(
    request: Request,
    session: DbSession,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    **details: object,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
        request_id=request_id(request),
    )


def _day(
    text: str, field: str, errors: FormErrors, *, end_of_day: bool = False
) -> dt.datetime | None:
    """A ``YYYY-MM-DD`` date as a UTC instant: its start, or (a deadline) the end of the day."""
    value = text.strip()
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        errors.setdefault(field, []).append("not a date; use YYYY-MM-DD")
        return None
    if end_of_day and day.year < 9999:
        day += dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


# --- invitations ------------------------------------------------------------------------------


def _invitations_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    campaign: Campaign,
    *,
    errors: FormErrors | None = None,
    message: str = "",
    status: int = 200,
) -> HTMLResponse:
    now = utcnow()
    invitations = [InvitationRead.of(i, now) for i in campaigns.list_invitations(session, campaign)]
    linked = {i.centre_id for i in invitations if i.state in ("live", "used")}
    expected = campaigns.expected_centres(session, campaign)
    return render(
        request,
        "coordinator/invitations.html",
        {
            "campaign": campaign,
            "invitations": invitations,
            "without_link": sum(1 for c in expected if c.public_id not in linked),
            "not_submitted": len(campaigns.centres_not_submitted(session, campaign))
            if campaign.status == "open"
            else None,
            "smtp": smtp_config(settings) is not None,
            "errors": errors or {},
            "message": message,
        },
        status=status,
    )


@router.get("/campaigns/{slug}/invitations", response_class=HTMLResponse)
def invitations(
    request: Request, session: DbSession, settings: AppSettings, actor: CampaignManager, slug: str
) -> HTMLResponse:
    """Invitation links of a campaign: issue, revoke, re-issue, remind."""
    return _invitations_page(request, session, settings, campaigns.get_campaign(session, slug))


def _issue_options(
    expires_on: str, send: str, language: str, errors: FormErrors
) -> tuple[dt.datetime | None, bool, str | None]:
    expires_at = _day(clean_text(expires_on, 10), "expires_on", errors, end_of_day=True)
    if expires_at is not None and expires_at <= utcnow():
        errors.setdefault("expires_on", []).append("must be in the future")
    chosen = language if language in mail.MAIL_LANGUAGES else None
    return expires_at, send == "yes", chosen


@router.post("/campaigns/{slug}/invitations", response_class=HTMLResponse)
def issue_invitations(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: CampaignManager,
    slug: str,
    expires_on: FormText = "",
    send: FormText = "",
    language: FormText = "",
) -> Response:
    """Issue links for centres without one; the answer is the CSV, the only copy of the links."""
    campaign = campaigns.get_campaign(session, slug)
    errors: FormErrors = {}
    expires_at, sending, chosen = _issue_options(expires_on, send, language, errors)
    smtp = smtp_config(settings)
    if sending and smtp is None:
        errors.setdefault("send", []).append("E-mail is not set up on this server.")
    if errors:
        return _invitations_page(request, session, settings, campaign, errors=errors, status=422)
    issued = campaigns.issue_invitations(session, campaign, expires_at=expires_at)
    if not issued:
        return _invitations_page(
            request,
            session,
            settings,
            campaign,
            message="Every centre already has a working link; nothing was issued.",
        )
    delivery = mail.deliver_links(
        session,
        campaign,
        issued,
        base_url=settings.base_url,
        smtp=smtp,
        send=sending,
        now=utcnow(),
        language=chosen,
    )
    _audit(
        request,
        session,
        actor,
        "invitation.issue",
        "campaign",
        campaign.slug,
        invitation_ids=[i.invitation.id for i in issued],
        count=len(issued),
        sent=len(delivery.sent),
        failed=delivery.failed,
    )
    return links_csv_response(campaign, delivery, "invitations")


@router.post("/campaigns/{slug}/reminders", response_class=HTMLResponse)
def send_reminders(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: CampaignManager,
    slug: str,
    expires_on: FormText = "",
    send: FormText = "",
    language: FormText = "",
) -> Response:
    """New links for centres that have not submitted everything (old links stop working),
    e-mailed as reminders when asked; the answer is the CSV of the new links."""
    campaign = campaigns.get_campaign(session, slug)
    errors: FormErrors = {}
    expires_at, sending, chosen = _issue_options(expires_on, send, language, errors)
    smtp = smtp_config(settings)
    if sending and smtp is None:
        errors.setdefault("send", []).append("E-mail is not set up on this server.")
    if errors:
        return _invitations_page(request, session, settings, campaign, errors=errors, status=422)
    try:
        reminders = campaigns.remind_not_submitted(session, campaign, expires_at=expires_at)
    except DomainError as exc:
        errors = {"_": [exc.detail]}
        return _invitations_page(request, session, settings, campaign, errors=errors, status=409)
    if not reminders:
        return _invitations_page(
            request,
            session,
            settings,
            campaign,
            message="Every centre has submitted; no reminder is needed.",
        )
    delivery = mail.deliver_links(
        session,
        campaign,
        [r.issued for r in reminders],
        base_url=settings.base_url,
        smtp=smtp,
        send=sending,
        now=utcnow(),
        language=chosen,
        reminder=True,
    )
    _audit(
        request,
        session,
        actor,
        "invitation.remind",
        "campaign",
        campaign.slug,
        revoked=[i for r in reminders for i in r.revoked],
        invitation_ids=[r.issued.invitation.id for r in reminders],
        count=len(reminders),
        sent=len(delivery.sent),
        failed=delivery.failed,
    )
    return links_csv_response(campaign, delivery, "reminders")


@router.post("/campaigns/{slug}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    request: Request, session: DbSession, actor: CampaignManager, slug: str, invitation_id: int
) -> RedirectResponse:
    """Stop a link working at once."""
    campaign = campaigns.get_campaign(session, slug)
    invitation = campaigns.get_invitation(session, campaign, invitation_id)
    campaigns.revoke_invitation(session, invitation)
    _audit(
        request,
        session,
        actor,
        "invitation.revoke",
        "campaign",
        campaign.slug,
        invitation_id=invitation.id,
        centre_id=invitation.centre.public_id,
    )
    return RedirectResponse(f"/coordinator/campaigns/{campaign.slug}/invitations", 303)


@router.post("/campaigns/{slug}/invitations/{invitation_id}/reissue", response_class=HTMLResponse)
def reissue_invitation(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: CampaignManager,
    slug: str,
    invitation_id: int,
) -> HTMLResponse:
    """A new link for the centre (its other links stop working), shown once on this page."""
    campaign = campaigns.get_campaign(session, slug)
    invitation = campaigns.get_invitation(session, campaign, invitation_id)
    renewal = campaigns.renew_invitation(session, invitation)
    delivery = mail.deliver_links(
        session,
        campaign,
        [renewal.issued],
        base_url=settings.base_url,
        smtp=None,
        send=False,
        now=utcnow(),
    )
    _audit(
        request,
        session,
        actor,
        "invitation.reissue",
        "campaign",
        campaign.slug,
        revoked=renewal.revoked,
        invitation_ids=[renewal.issued.invitation.id],
    )
    return render(
        request,
        "coordinator/link_issued.html",
        {"campaign": campaign, "line": delivery.lines[0]},
        status=201,
    )
