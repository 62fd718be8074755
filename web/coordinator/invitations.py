"""Coordinator pages for invitations: issuing links (CSV or e-mail), reminders, revoking and
re-issuing one link.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.auth import CampaignManager
from api.deps import DbSession, InvitationOutbox
from surveys.campaigns import invitations as links
from surveys.campaigns import lifecycle, mail
from surveys.campaigns.invitations import Delivery
from surveys.campaigns.models import Campaign, CampaignStatus
from surveys.campaigns.schemas import InvitationIssue, InvitationRead
from surveys.db import utcnow
from surveys.errors import DomainError
from surveys.responses import completion as progress
from surveys.responses import reminders
from web.coordinator.dates import form_day
from web.forms import FormErrors, FormText, clean_text, render, request_id, validation_errors

router = APIRouter(prefix="/coordinator")


def _invitations_page(
    request: Request,
    session: DbSession,
    outbox: mail.Outbox,
    campaign: Campaign,
    *,
    errors: FormErrors | None = None,
    message: str = "",
    status: int = 200,
) -> HTMLResponse:
    now = utcnow()
    invitations = [InvitationRead.of(i, now) for i in links.list_invitations(session, campaign)]
    linked = {i.centre_id for i in invitations if i.state in ("live", "used")}
    expected = lifecycle.expected_centres(session, campaign)
    return render(
        request,
        "coordinator/invitations.html",
        {
            "campaign": campaign,
            "invitations": invitations,
            "without_link": sum(1 for c in expected if c.public_id not in linked),
            "not_submitted": len(progress.centres_not_submitted(session, campaign))
            if campaign.status == CampaignStatus.OPEN
            else None,
            "smtp": outbox.smtp is not None,
            "errors": errors or {},
            "message": message,
        },
        status=status,
    )


def _links_csv(campaign: Campaign, delivery: Delivery, kind: str) -> Response:
    """The mail-merge CSV as a download that no cache keeps: the only copy of the links."""
    name = mail.links_csv_filename(campaign.slug, kind, utcnow())
    return Response(
        mail.links_csv(delivery.lines),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/campaigns/{slug}/invitations", response_class=HTMLResponse)
def invitations(
    request: Request,
    session: DbSession,
    outbox: InvitationOutbox,
    actor: CampaignManager,
    slug: str,
) -> HTMLResponse:
    """Invitation links of a campaign: issue, revoke, re-issue, remind."""
    return _invitations_page(request, session, outbox, lifecycle.get_campaign(session, slug))


def _issue_options(
    expires_on: str, send: str, language: str, outbox: mail.Outbox, errors: FormErrors
) -> InvitationIssue:
    """The form's options as the request the services take; problems go to ``errors``."""
    expires_at = form_day(clean_text(expires_on, 10), "expires_on", errors, end_of_day=True)
    if send == "yes" and outbox.smtp is None:
        errors.setdefault("send", []).append("E-mail is not set up on this server.")
    chosen = language if language in mail.MAIL_LANGUAGES else None
    try:
        return InvitationIssue.model_validate(
            {"expires_at": expires_at, "send": send == "yes", "language": chosen}
        )
    except ValidationError as exc:  # a deadline in the past
        for field, messages in validation_errors(exc).items():
            errors.setdefault("expires_on" if field == "expires_at" else field, []).extend(messages)
        return InvitationIssue()


@router.post("/campaigns/{slug}/invitations", response_class=HTMLResponse)
def issue_invitations(
    request: Request,
    session: DbSession,
    outbox: InvitationOutbox,
    actor: CampaignManager,
    slug: str,
    expires_on: FormText = "",
    send: FormText = "",
    language: FormText = "",
) -> Response:
    """Issue links for centres without one; the answer is the CSV, the only copy of the links."""
    campaign = lifecycle.get_campaign(session, slug)
    errors: FormErrors = {}
    options = _issue_options(expires_on, send, language, outbox, errors)
    if errors:
        return _invitations_page(request, session, outbox, campaign, errors=errors, status=422)
    delivery = links.issue_invitations(
        session, actor, campaign, options, outbox, request_id=request_id(request)
    )
    if not delivery.lines:
        message = "Every centre already has a working link; nothing was issued."
        return _invitations_page(request, session, outbox, campaign, message=message)
    return _links_csv(campaign, delivery, "invitations")


@router.post("/campaigns/{slug}/reminders", response_class=HTMLResponse)
def send_reminders(
    request: Request,
    session: DbSession,
    outbox: InvitationOutbox,
    actor: CampaignManager,
    slug: str,
    expires_on: FormText = "",
    send: FormText = "",
    language: FormText = "",
) -> Response:
    """New links for centres that have not submitted everything (old links stop working),
    e-mailed as reminders when asked; the answer is the CSV of the new links."""
    campaign = lifecycle.get_campaign(session, slug)
    errors: FormErrors = {}
    options = _issue_options(expires_on, send, language, outbox, errors)
    if errors:
        return _invitations_page(request, session, outbox, campaign, errors=errors, status=422)
    try:
        delivery = reminders.send_reminders(
            session, actor, campaign, options, outbox, request_id=request_id(request)
        )
    except DomainError as exc:
        errors = {"_": [exc.detail]}
        return _invitations_page(request, session, outbox, campaign, errors=errors, status=409)
    if not delivery.lines:
        message = "Every centre has submitted; no reminder is needed."
        return _invitations_page(request, session, outbox, campaign, message=message)
    return _links_csv(campaign, delivery, "reminders")


@router.post("/campaigns/{slug}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    request: Request, session: DbSession, actor: CampaignManager, slug: str, invitation_id: int
) -> RedirectResponse:
    """Stop a link working at once."""
    campaign = lifecycle.get_campaign(session, slug)
    links.revoke_invitation(session, actor, campaign, invitation_id, request_id=request_id(request))
    return RedirectResponse(f"/coordinator/campaigns/{campaign.slug}/invitations", 303)


@router.post("/campaigns/{slug}/invitations/{invitation_id}/reissue", response_class=HTMLResponse)
def reissue_invitation(
    request: Request,
    session: DbSession,
    outbox: InvitationOutbox,
    actor: CampaignManager,
    slug: str,
    invitation_id: int,
) -> HTMLResponse:
    """A new link for the centre (its other links stop working), shown once on this page."""
    campaign = lifecycle.get_campaign(session, slug)
    delivery = links.reissue_invitation(
        session,
        actor,
        campaign,
        invitation_id,
        InvitationIssue(),
        outbox,
        request_id=request_id(request),
    )
    return render(
        request,
        "coordinator/link_issued.html",
        {"campaign": campaign, "line": delivery.lines[0]},
        status=201,
    )
