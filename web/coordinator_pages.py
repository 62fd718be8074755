"""Coordinator pages: campaigns (set up, open, close, reopen), invitations and reminders,
completion, and the review of submitted responses (comments, corrections, withdrawal, versions).

Thin adapters over the services the JSON API calls. Forms re-render with the input kept: 422 for
a problem with the input, 409 when someone else changed the response meanwhile. Domain leads read
the responses of their domains (the scope is in the queries); only coordinators and admins change
anything. Drafts never appear here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.auth import CampaignManager, ResponseEditor, ResponseReader
from api.deps import AppSettings, DbSession
from api.v1.campaigns import links_csv_response, smtp_config
from surveys.audit import service as audit
from surveys.campaigns import mail
from surveys.campaigns import service as campaigns
from surveys.campaigns.models import Campaign
from surveys.campaigns.schemas import CampaignCreate, CompletionRead, InvitationRead
from surveys.db import utcnow
from surveys.domains import QUESTIONNAIRE_DOMAINS, domain_name
from surveys.errors import DomainError
from surveys.policy import Actor, Permission
from surveys.questionnaires import service as questionnaires
from surveys.questionnaires.definitions.compiled import CompiledForm, compiled_form
from surveys.registry.countries import list_countries
from surveys.responses import queries
from surveys.responses import service as responses
from surveys.responses.models import Response as ResponseRow
from surveys.responses.schemas import ReviewUpdate
from web.forms import (
    FormErrors,
    FormText,
    clean_text,
    domain_errors,
    render,
    request_id,
    validation_errors,
)
from web.forms.answers import answers_from_form
from web.forms.questionnaire import FormView

router = APIRouter(prefix="/coordinator", include_in_schema=False)

FilterText = Annotated[str, Query(max_length=100)]
PER_PAGE = 50
REVIEW_STATES = responses.REVIEW_STATES
DOMAIN_LABELS: dict[str, str] = {
    **{code: domain_name(code) for code in QUESTIONNAIRE_DOMAINS},
    queries.NO_DOMAIN: "No domain",
}
# Fields of the correction form that are not answers (so a question can never collide with them).
CORRECTION_CONTROLS = frozenset({"csrf_token", "expected_version", "correction_reason", "action"})


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


# --- campaigns ----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def campaign_list(request: Request, session: DbSession, actor: ResponseReader) -> HTMLResponse:
    """Every campaign with its status and dates."""
    now = utcnow()
    return render(
        request,
        "coordinator/campaigns.html",
        {
            "campaigns": campaigns.list_campaigns(session),
            "now": now,
            "is_open": lambda c: campaigns.is_open(c, now),
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


@router.post("/campaigns", response_class=HTMLResponse)
async def create_campaign(request: Request, session: DbSession, actor: CampaignManager) -> Response:
    """Create the campaign in draft; it opens when the coordinator opens it."""
    form = _campaign_form(await request.form())
    errors: FormErrors = {}
    opens_at = _day(form["opens_on"], "opens_on", errors)
    closes_at = _day(form["closes_on"], "closes_on", errors, end_of_day=True)
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
                "centre_scope": form["centre_scope"],
                "countries": form["countries"].replace(",", " ").split()
                if form["centre_scope"] == "countries"
                else [],
                "centre_ids": form["centre_ids"].replace(",", " ").split()
                if form["centre_scope"] == "ids"
                else [],
            }
        )
    except ValidationError as exc:
        errors.update(_campaign_errors(validation_errors(exc)))
    if errors:
        return _new_campaign_page(request, session, form=form, errors=errors, status=422)
    try:
        campaign = campaigns.create_campaign(
            session,
            slug=data.slug,
            name=data.name,
            versions=campaigns.choose_versions(
                session, [(q.form_id, q.version) for q in data.questionnaires]
            ),
            centres=campaigns.choose_centres(
                session,
                scope=data.centre_scope,
                countries=data.countries,
                centre_ids=data.centre_ids,
            ),
            opens_at=data.opens_at,
            closes_at=data.closes_at,
        )
    except DomainError as exc:
        errors = _campaign_errors(domain_errors(exc))
        if exc.code == "campaign_state":
            errors = {"slug": [exc.detail]}
        return _new_campaign_page(request, session, form=form, errors=errors, status=422)
    _audit(
        request,
        session,
        actor,
        "campaign.create",
        "campaign",
        campaign.slug,
        questionnaires=form["form_ids"],
        centres=campaigns.count_expected_centres(session, campaign),
    )
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
    completion = CompletionRead.of(campaign.slug, queries.completion(session, actor, campaign))
    return render(
        request,
        "coordinator/campaign.html",
        {
            "campaign": campaign,
            "accepting": campaigns.is_open(campaign, now),
            "versions": campaigns.campaign_versions(session, campaign),
            "centres": campaigns.count_expected_centres(session, campaign),
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
    return _campaign_page(request, session, actor, campaigns.get_campaign(session, slug))


def _state_change(
    request: Request, session: DbSession, actor: Actor, slug: str, action: str
) -> Response:
    campaign = campaigns.get_campaign(session, slug)
    change = campaigns.open_draft_campaign if action == "open" else campaigns.close_campaign
    try:
        change(session, campaign)
    except DomainError as exc:
        return _campaign_page(
            request, session, actor, campaign, errors={"_": [exc.detail]}, status=409
        )
    _audit(request, session, actor, f"campaign.{action}", "campaign", campaign.slug)
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
    campaign = campaigns.get_campaign(session, slug)
    form = {"closes_on": clean_text(closes_on, 10)}
    errors: FormErrors = {}
    closes_at = _day(form["closes_on"], "closes_on", errors, end_of_day=True)
    if not errors:
        try:
            campaigns.reopen_campaign(session, campaign, closes_at=closes_at, now=utcnow())
        except DomainError as exc:
            errors = _campaign_errors(domain_errors(exc))
    if errors:
        return _campaign_page(
            request, session, actor, campaign, errors=errors, form=form, status=422
        )
    _audit(
        request,
        session,
        actor,
        "campaign.reopen",
        "campaign",
        campaign.slug,
        closes_at=campaign.closes_at.isoformat() if campaign.closes_at else None,
    )
    return RedirectResponse(f"/coordinator/campaigns/{campaign.slug}", 303)


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


# --- responses --------------------------------------------------------------------------------


@router.get("/responses", response_class=HTMLResponse)
def response_list(
    request: Request,
    session: DbSession,
    actor: ResponseReader,
    campaign: FilterText = "",
    review_state: FilterText = "",
    status: FilterText = "",
    country: Annotated[str, Query(max_length=2)] = "",
    form_id: FilterText = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Submitted responses (never drafts) with their review state, filtered."""
    form = {
        "campaign": campaign,
        "review_state": review_state if review_state in REVIEW_STATES else "",
        "status": status if status in queries.VISIBLE_STATUSES else "",
        "country": country.upper(),
        "form_id": form_id,
    }
    filters = queries.ResponseFilter(**{k: v or None for k, v in form.items()})
    result = queries.list_responses(session, actor, filters, page=page, per_page=PER_PAGE)
    return render(
        request,
        "coordinator/responses.html",
        {
            "result": result,
            "form": form,
            "pages": max(1, -(-result.total // PER_PAGE)),
            "campaigns": campaigns.list_campaigns(session),
            "review_states": REVIEW_STATES,
            "statuses": queries.VISIBLE_STATUSES,
        },
    )


def _language(request: Request, form: CompiledForm) -> str:
    wanted = [request.query_params.get("lang", "")]
    for part in request.headers.get("accept-language", "").split(","):
        wanted.append(part.split(";")[0].strip().lower()[:2])
    return queries.response_language(form, wanted)


def _response_page(
    request: Request,
    session: DbSession,
    actor: Actor,
    response_id: int,
    *,
    status: int = 200,
    errors: FormErrors | None = None,
    form: dict[str, Any] | None = None,
    message: str = "",
    field_values: dict[str, Any] | None = None,
    expected_version: int | None = None,
    problems: list[Any] | None = None,
) -> HTMLResponse:
    found = queries.visible_response(session, actor, response_id)
    detail = queries.read_response(session, actor, response_id)
    compiled = compiled_form(found.questionnaire_version.definition)
    language = _language(request, compiled)
    versions = responses.list_versions(session, found)
    editable = Permission.RESPONSES_EDIT in actor.permissions and found.status != "withdrawn"
    values = field_values if field_values is not None else found.answers
    return render(
        request,
        "coordinator/response.html",
        {
            "response": detail,
            "title": compiled.definition["settings"]["title"].get(language, compiled.form_id),
            "lines": queries.labelled_answers(compiled, found.answers, language),
            "language": language,
            "languages": compiled.languages,
            "versions": versions,
            "editable": editable,
            "fields": FormView(compiled, values, language, problems).fields() if editable else [],
            "review_states": REVIEW_STATES,
            "errors": errors or {},
            "form": form
            or {
                "state": detail.review_state or "received",
                "comment": "",
                "answers_json": json.dumps(found.answers, ensure_ascii=False, indent=2),
                "reason": "",
                "withdraw_reason": "",
            },
            "message": message,
            "expected_version": expected_version or found.version,
        },
        status=status,
    )


@router.get("/responses/{response_id}", response_class=HTMLResponse)
def response_detail(
    request: Request, session: DbSession, actor: ResponseReader, response_id: int
) -> HTMLResponse:
    """One response: answers with labels in the reader's language, review, history."""
    return _response_page(request, session, actor, response_id)


def _expected(text: str) -> int:
    value = text.strip()
    return int(value) if value.isdigit() and len(value) < 10 else -1


@router.post("/responses/{response_id}/review", response_class=HTMLResponse)
def review_response(
    request: Request,
    session: DbSession,
    actor: ResponseEditor,
    response_id: int,
    state: FormText = "",
    comment: FormText = "",
    expected_version: FormText = "",
) -> Response:
    """Set the review state with a comment (required for issues and rejection)."""
    found = queries.visible_response(session, actor, response_id)
    form = {"state": clean_text(state, 20), "comment": clean_text(comment, 5000)}
    previous = found.review_state
    try:
        data = ReviewUpdate.model_validate(
            {**form, "expected_version": _expected(expected_version) if expected_version else None}
        )
        _, note = responses.review_with_comment(
            session,
            found,
            data.state,
            data.comment,
            author=actor.label,
            expected_version=data.expected_version,
        )
    except ValidationError as exc:
        return _response_page(
            request,
            session,
            actor,
            response_id,
            status=422,
            errors=validation_errors(exc),
            form=_kept(found, form),
        )
    except responses.StaleVersion as exc:
        return _response_page(
            request,
            session,
            actor,
            response_id,
            status=409,
            errors={"_": [exc.detail]},
            form=_kept(found, form),
            expected_version=exc.current.version,
        )
    except DomainError as exc:
        return _response_page(
            request,
            session,
            actor,
            response_id,
            status=422,
            errors=domain_errors(exc),
            form=_kept(found, form),
        )
    _audit(
        request,
        session,
        actor,
        "response.review",
        "response",
        found.id,
        **{"from": previous, "to": found.review_state, "comment_id": note.id if note else None},
        version=found.version,
    )
    return RedirectResponse(f"/coordinator/responses/{found.id}", 303)


def _kept(found: ResponseRow, form: dict[str, Any]) -> dict[str, Any]:
    """The page's forms with what was just typed, the other forms as fresh."""
    return {
        "state": found.review_state or "received",
        "comment": "",
        "answers_json": json.dumps(found.answers, ensure_ascii=False, indent=2),
        "reason": "",
        "withdraw_reason": "",
        **form,
    }


def _row_action(form: CompiledForm, answers: dict[str, Any], action: str) -> bool:
    """Without JavaScript, "Add a row" and "Remove this row" are submit buttons."""
    kind, _, target = action.partition(":")
    name, _, index = target.partition(":")
    question = form.by_name.get(name)
    if kind not in {"add", "remove"} or question is None or question.kind != "repeat":
        return False
    rows = answers.setdefault(name, [])
    if kind == "add" and len(rows) < 500:
        rows.append({})
    elif kind == "remove" and index.isdigit() and int(index) < len(rows):
        rows.pop(int(index))
    return True


@router.post("/responses/{response_id}/correct", response_class=HTMLResponse)
async def correct_response(
    request: Request, session: DbSession, actor: ResponseEditor, response_id: int
) -> Response:
    """Correct the answers (field by field, or as JSON) with a reason: a new version."""
    found = queries.visible_response(session, actor, response_id)
    data = await request.form()
    compiled = compiled_form(found.questionnaire_version.definition)
    reason = clean_text(str(data.get("correction_reason", "")), 2000)
    action = str(data.get("action", "fields"))[:200]
    expected = _expected(str(data.get("expected_version", "")))
    raw_json = clean_text(str(data.get("answers_json", "")), 1_000_000)
    form = {"reason": reason, "answers_json": raw_json}
    errors: FormErrors = {}
    field_values: dict[str, Any] | None = None
    answers: Any = None
    if action == "json":
        try:
            answers = json.loads(raw_json)
        except ValueError as exc:
            errors["answers_json"] = [f"not valid JSON: {exc}"]
        else:
            if not isinstance(answers, dict):
                errors["answers_json"] = ["give the answers as one JSON object"]
    else:
        fields = FormData([(k, v) for k, v in data.multi_items() if k not in CORRECTION_CONTROLS])
        answers = answers_from_form(compiled, fields)
        field_values = answers
        if _row_action(compiled, answers, action):
            return _response_page(
                request,
                session,
                actor,
                response_id,
                form=_kept(found, form),
                field_values=answers,
                expected_version=expected,
            )
    if not reason.strip():
        errors.setdefault("correction_reason", []).append("say why the answers are corrected")
    if errors:
        return _response_page(
            request,
            session,
            actor,
            response_id,
            status=422,
            errors=errors,
            form=_kept(found, form),
            field_values=field_values,
            expected_version=expected,
        )
    before = found.answers_hash
    try:
        entry = responses.correct(
            session, found, answers, expected_version=expected, reason=reason, actor=actor.label
        )
    except responses.StaleVersion as exc:
        return _response_page(
            request,
            session,
            actor,
            response_id,
            status=409,
            errors={"_": [exc.detail]},
            form=_kept(found, form),
            field_values=field_values,
            expected_version=exc.current.version,
            message="Your corrections are kept below; check the current answers, then save again.",
        )
    except responses.InvalidAnswers as exc:
        errors = {"answers": [f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in exc.errors]}
        return _response_page(
            request,
            session,
            actor,
            response_id,
            status=422,
            errors=errors,
            form=_kept(found, form),
            field_values=field_values,
            expected_version=expected,
            problems=exc.validated.errors,
        )
    except DomainError as exc:
        return _response_page(
            request,
            session,
            actor,
            response_id,
            status=422,
            errors=domain_errors(exc),
            form=_kept(found, form),
            field_values=field_values,
            expected_version=expected,
        )
    _audit(
        request,
        session,
        actor,
        "response.update.version",
        "response",
        found.id,
        reason=entry.reason,
        number=entry.number,
        before_hash=before,
        after_hash=entry.answers_hash,
        version=found.version,
    )
    return RedirectResponse(f"/coordinator/responses/{found.id}#history", 303)


@router.post("/responses/{response_id}/withdraw", response_class=HTMLResponse)
def withdraw_response(
    request: Request,
    session: DbSession,
    actor: ResponseEditor,
    response_id: int,
    withdraw_reason: FormText = "",
    expected_version: FormText = "",
) -> Response:
    """Withdraw a response for a stated reason; it can never be resubmitted."""
    found = queries.visible_response(session, actor, response_id)
    form = {"withdraw_reason": clean_text(withdraw_reason, 2000)}
    try:
        entry = responses.withdraw_with_reason(
            session,
            found,
            reason=form["withdraw_reason"],
            actor=actor.label,
            expected_version=_expected(expected_version),
        )
    except responses.StaleVersion as exc:
        return _response_page(
            request,
            session,
            actor,
            response_id,
            status=409,
            errors={"_": [exc.detail]},
            form=_kept(found, form),
            expected_version=exc.current.version,
        )
    except DomainError as exc:
        errors = {
            "withdraw_reason" if k == "reason" else k: v for k, v in domain_errors(exc).items()
        }
        return _response_page(
            request,
            session,
            actor,
            response_id,
            status=422,
            errors=errors,
            form=_kept(found, form),
        )
    _audit(
        request,
        session,
        actor,
        "response.withdraw",
        "response",
        found.id,
        reason=entry.reason,
        number=entry.number,
        version=found.version,
    )
    return RedirectResponse(f"/coordinator/responses/{found.id}", 303)


@router.get("/responses/{response_id}/diff", response_class=HTMLResponse)
def version_diff(
    request: Request,
    session: DbSession,
    actor: ResponseReader,
    response_id: int,
    from_version: Annotated[int, Query(alias="from")] = 1,
    to_version: Annotated[int, Query(alias="to")] = 2,
) -> HTMLResponse:
    """What changed between two versions of a response."""
    found = queries.visible_response(session, actor, response_id)
    before = responses.get_version(session, found, from_version)
    after = responses.get_version(session, found, to_version)
    compiled = compiled_form(found.questionnaire_version.definition)
    language = _language(request, compiled)

    def label(path: str) -> str:
        name = path.rsplit(".", 1)[-1].split("[", 1)[0]
        question = compiled.by_name.get(name)
        if question is None:
            return path
        return question.text(question.label, language, compiled.default_language) or path

    return render(
        request,
        "coordinator/diff.html",
        {
            "response": queries.response_summary(session, actor, response_id),
            "before": before,
            "after": after,
            "changes": responses.diff_answers(before.answers, after.answers),
            "label": label,
            "versions": responses.list_versions(session, found),
        },
    )
