"""Coordinator pages for campaigns: the list, setting one up, opening, closing, reopening,
and completion by country and domain.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.auth import CampaignManager, ResponseReader
from api.deps import DbSession
from surveys.campaigns import lifecycle
from surveys.campaigns.models import Campaign
from surveys.campaigns.schemas import CampaignCreate
from surveys.db import utcnow
from surveys.domains import QUESTIONNAIRE_DOMAINS, domain_name
from surveys.errors import DomainError
from surveys.policy import Actor, Permission
from surveys.questionnaires import service as questionnaires
from surveys.registry.countries import list_countries
from surveys.responses import completion as progress
from surveys.responses.schemas import CompletionRead
from web.coordinator.dates import form_day
from web.forms import (
    FormErrors,
    FormText,
    PostedForm,
    clean_text,
    domain_errors,
    render,
    request_id,
    validation_errors,
)

router = APIRouter(prefix="/coordinator")

DOMAIN_LABELS: dict[str, str] = {
    **{code: domain_name(code) for code in QUESTIONNAIRE_DOMAINS},
    progress.NO_DOMAIN: "No domain",
}


# --- campaigns ----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def campaign_list(request: Request, session: DbSession, actor: ResponseReader) -> HTMLResponse:
    """Every campaign with its status and dates."""
    now = utcnow()
    return render(
        request,
        "coordinator/campaigns.html",
        {
            "campaigns": lifecycle.visible_campaigns(session, actor),
            "now": now,
            "is_open": lambda c: c.accepts_answers(now),
            "can_manage": Permission.CAMPAIGNS_MANAGE in actor.permissions,
        },
    )


def _questionnaire_choices(session: DbSession) -> list[dict[str, Any]]:
    """Questionnaires that have a published version, with those versions (newest first)."""
    choices = []
    for summary in questionnaires.list_questionnaires(session):
        if summary.published_version is None:
            continue
        published = [
            v.version
            for v in questionnaires.list_versions(session, summary.form_id)
            if v.status == "published"
        ]
        choices.append(
            {
                "form_id": summary.form_id,
                "title": summary.title,
                "domain": summary.domain,
                "versions": list(reversed(published)),
            }
        )
    return choices


EMPTY_CAMPAIGN_FORM: dict[str, Any] = {
    "name": "",
    "slug": "",
    "opens_on": "",
    "closes_on": "",
    "form_ids": [],
    "versions": {},
    "centre_scope": "all",
    "countries": "",
    "centre_ids": "",
}


def _new_campaign_page(
    request: Request,
    session: DbSession,
    *,
    form: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "coordinator/campaign_new.html",
        {
            "form": form or EMPTY_CAMPAIGN_FORM,
            "errors": errors or {},
            "choices": _questionnaire_choices(session),
        },
        status=status,
    )


@router.get("/campaigns/new", response_class=HTMLResponse)
def new_campaign(request: Request, session: DbSession, actor: CampaignManager) -> HTMLResponse:
    """The form to set up a campaign."""
    return _new_campaign_page(request, session)


def _campaign_form(data: FormData) -> dict[str, Any]:
    form_ids = [clean_text(v, 100) for v in data.getlist("form_ids") if isinstance(v, str)][:50]
    return {
        "name": clean_text(str(data.get("name", "")), 300),
        "slug": clean_text(str(data.get("slug", "")), 100).strip(),
        "opens_on": clean_text(str(data.get("opens_on", "")), 10),
        "closes_on": clean_text(str(data.get("closes_on", "")), 10),
        "form_ids": form_ids,
        "versions": {f: clean_text(str(data.get(f"version.{f}", "")), 50) for f in form_ids},
        "centre_scope": clean_text(str(data.get("centre_scope", "all")), 20),
        "countries": clean_text(str(data.get("countries", "")), 400),
        "centre_ids": clean_text(str(data.get("centre_ids", "")), 400_000),
    }


def _campaign_request(form: dict[str, Any], errors: FormErrors) -> CampaignCreate | None:
    """The form as the request the service takes; None (and ``errors``) when it is not one."""
    opens_at = form_day(form["opens_on"], "opens_on", errors)
    closes_at = form_day(form["closes_on"], "closes_on", errors, end_of_day=True)
    scope = form["centre_scope"]
    try:
        data = CampaignCreate.model_validate(
            {
                "slug": form["slug"],
                "name": form["name"],
                "opens_at": opens_at,
                "closes_at": closes_at,
                "questionnaires": [
                    {"form_id": f, "version": form["versions"].get(f) or None}
                    for f in form["form_ids"]
                ],
                "centre_scope": scope,
                "countries": form["countries"].replace(",", " ").split()
                if scope == "countries"
                else [],
                "centre_ids": form["centre_ids"].replace(",", " ").split()
                if scope == "ids"
                else [],
            }
        )
    except ValidationError as exc:
        errors.update(_campaign_errors(validation_errors(exc)))
        return None
    return None if errors else data


@router.post("/campaigns", response_class=HTMLResponse)
def create_campaign(
    request: Request, session: DbSession, actor: CampaignManager, posted: PostedForm
) -> Response:
    """Create the campaign in draft; it opens when the coordinator opens it."""
    form = _campaign_form(posted)
    errors: FormErrors = {}
    data = _campaign_request(form, errors)
    if data is None:
        return _new_campaign_page(request, session, form=form, errors=errors, status=422)
    try:
        campaign = lifecycle.create_campaign(session, actor, data, request_id=request_id(request))
    except DomainError as exc:
        errors = _campaign_errors(domain_errors(exc))
        if exc.code == "campaign_state":
            errors = {"slug": [exc.detail]}
        return _new_campaign_page(request, session, form=form, errors=errors, status=422)
    return RedirectResponse(f"/coordinator/campaigns/{campaign.slug}", 303)


def _campaign_errors(errors: FormErrors) -> FormErrors:
    """Errors of the API's field names shown at the page's fields."""
    renamed = {"opens_at": "opens_on", "closes_at": "closes_on", "_": "closes_on"}
    shown: FormErrors = {}
    for field, messages in errors.items():
        shown.setdefault(renamed.get(field, field), []).extend(messages)
    return shown


def _campaign_page(
    request: Request,
    session: DbSession,
    actor: Actor,
    campaign: Campaign,
    *,
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    now = utcnow()
    completion = CompletionRead.of(campaign.slug, progress.completion(session, actor, campaign))
    return render(
        request,
        "coordinator/campaign.html",
        {
            "campaign": campaign,
            "accepting": campaign.accepts_answers(now),
            "versions": lifecycle.visible_versions(session, actor, campaign),
            "centres": lifecycle.count_visible_centres(session, actor, campaign),
            "completion": completion,
            "domain_names": {
                row.key: DOMAIN_LABELS.get(row.key) or row.key.replace("_", " ").capitalize()
                for row in completion.by_domain
            },
            "country_names": {
                country.iso2: f"{country.name} ({country.iso2})"
                for country in list_countries(session)
            },
            "can_manage": Permission.CAMPAIGNS_MANAGE in actor.permissions,
            "errors": errors or {},
            "form": form or {"closes_on": ""},
        },
        status=status,
    )


@router.get("/campaigns/{slug}", response_class=HTMLResponse)
def campaign_detail(
    request: Request, session: DbSession, actor: ResponseReader, slug: str
) -> HTMLResponse:
    """A campaign: what it sends, to how many centres, and completion by country and domain."""
    return _campaign_page(request, session, actor, lifecycle.visible_campaign(session, actor, slug))


def _state_change(
    request: Request, session: DbSession, actor: Actor, slug: str, action: str
) -> Response:
    campaign = lifecycle.get_campaign(session, slug)
    change = lifecycle.open_campaign if action == "open" else lifecycle.close_campaign
    try:
        change(session, actor, campaign, request_id=request_id(request))
    except DomainError as exc:
        return _campaign_page(
            request, session, actor, campaign, errors={"_": [exc.detail]}, status=409
        )
    return RedirectResponse(f"/coordinator/campaigns/{campaign.slug}", 303)


@router.post("/campaigns/{slug}/open", response_class=HTMLResponse)
def open_campaign(
    request: Request, session: DbSession, actor: CampaignManager, slug: str
) -> Response:
    """Open a draft campaign for answers."""
    return _state_change(request, session, actor, slug, "open")


@router.post("/campaigns/{slug}/close", response_class=HTMLResponse)
def close_campaign(
    request: Request, session: DbSession, actor: CampaignManager, slug: str
) -> Response:
    """Close a campaign: drafts are kept, nothing more can be saved or submitted."""
    return _state_change(request, session, actor, slug, "close")


@router.post("/campaigns/{slug}/reopen", response_class=HTMLResponse)
def reopen_campaign(
    request: Request,
    session: DbSession,
    actor: CampaignManager,
    slug: str,
    closes_on: FormText = "",
) -> Response:
    """Reopen a closed campaign, with a new deadline when the old one has passed."""
    campaign = lifecycle.get_campaign(session, slug)
    form = {"closes_on": clean_text(closes_on, 10)}
    errors: FormErrors = {}
    closes_at = form_day(form["closes_on"], "closes_on", errors, end_of_day=True)
    if not errors:
        try:
            lifecycle.reopen_campaign(
                session,
                actor,
                campaign,
                closes_at=closes_at,
                now=utcnow(),
                request_id=request_id(request),
            )
        except DomainError as exc:
            errors = _campaign_errors(domain_errors(exc))
    if errors:
        return _campaign_page(
            request, session, actor, campaign, errors=errors, form=form, status=422
        )
    return RedirectResponse(f"/coordinator/campaigns/{campaign.slug}", 303)
