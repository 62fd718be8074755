"""Admin page of researcher grants: which campaigns each researcher may read and export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.auth import CampaignManager
from api.deps import DbSession
from surveys.accounts import service as accounts
from surveys.campaigns import grants
from surveys.campaigns.lifecycle import list_campaigns
from surveys.campaigns.schemas import GrantCreate
from surveys.errors import DomainError
from surveys.policy import Actor, Role
from web.forms import (
    FormErrors,
    FormText,
    ObjectId,
    domain_errors,
    render,
    request_id,
    validation_errors,
)

router = APIRouter(prefix="/admin", include_in_schema=False)


def _grants_page(
    request: Request,
    session: DbSession,
    actor: Actor,
    *,
    form: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    researchers = [u for u in accounts.list_users(session) if u.role == Role.RESEARCHER.value]
    return render(
        request,
        "admin/grants.html",
        {
            "grants": grants.list_grants(session, actor),
            "researchers": researchers,
            "names": {u.id: f"{u.display_name} (#{u.id})" for u in researchers},
            "campaigns": list_campaigns(session),
            "grant_form": form or {"user_id": "", "campaign": ""},
            "grant_errors": errors or {},
        },
        status=status,
    )


@router.get("/grants", response_class=HTMLResponse)
def grants_list(request: Request, session: DbSession, actor: CampaignManager) -> HTMLResponse:
    """Every researcher grant, and the form to grant a campaign."""
    return _grants_page(request, session, actor)


@router.post("/grants", response_class=HTMLResponse)
def grant_campaign(
    request: Request,
    session: DbSession,
    actor: CampaignManager,
    user_id: FormText = "",
    campaign: FormText = "",
) -> Response:
    """Grant a researcher a campaign; the form again (422) with what was wrong."""
    form = {"user_id": user_id, "campaign": campaign}
    missing: FormErrors = {}
    if not user_id.isdigit():
        missing["user_id"] = ["Choose the researcher to grant the campaign to."]
    if not campaign:
        missing["campaign"] = ["Choose the campaign to grant."]
    if missing:
        return _grants_page(request, session, actor, form=form, errors=missing, status=422)
    try:
        data = GrantCreate.model_validate({"user_id": user_id, "campaign": campaign})
        grants.grant_campaign(session, actor, data, request_id=request_id(request))
    except ValidationError as exc:
        return _grants_page(
            request, session, actor, form=form, errors=validation_errors(exc), status=422
        )
    except DomainError as exc:
        return _grants_page(
            request, session, actor, form=form, errors=domain_errors(exc), status=422
        )
    return RedirectResponse("/admin/grants", 303)


@router.post("/grants/{grant_id}/revoke")
def revoke_grant(
    request: Request, session: DbSession, actor: CampaignManager, grant_id: ObjectId
) -> RedirectResponse:
    """Take a grant back."""
    grants.revoke_grant(session, actor, grant_id, request_id=request_id(request))
    return RedirectResponse("/admin/grants", 303)
