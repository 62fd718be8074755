"""The pages a centre sees: its questionnaires, the form (drafts, review, submit), the receipt.

Thin handlers: they parse the request, call one service, and render. Every error re-renders the
page with what the respondent typed, so nothing is lost: not on a failed check (422), not on a
stale save (409), not when the campaign has closed (409).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.cookies import CookieChange, schedule_cookie
from api.deps import AppSettings, DbSession, ThrottleGuard, source_address
from surveys.campaigns import respondents
from surveys.campaigns.errors import CampaignClosed, InvitationNotFound
from surveys.campaigns.lifecycle import campaign_versions
from surveys.campaigns.models import RespondentSession
from surveys.db import utcnow
from surveys.errors import NotFound
from surveys.questionnaires.answers import validate_answers
from surveys.questionnaires.definitions.compiled import compiled_version
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.responses import respondent
from surveys.responses.errors import (
    AlreadyFinalised,
    InvalidAnswers,
    ResponseNotFound,
    StaleVersion,
    Withdrawn,
)
from surveys.responses.models import FINAL_STATUSES, ResponseStatus
from surveys.responses.respondent import RespondentForm
from surveys.responses.submission import by_submission_uuid, responses_of_centre
from surveys.throttles.invitations import count_invalid_link
from web import i18n
from web.errors import render_error_page
from web.forms import PostedForm, request_id
from web.forms.answers import answers_from_form
from web.forms.questionnaire import FormView
from web.respondent import rendering
from web.respondent.access import RespondentActor, cookie_name, current
from web.templating import templates

router = APIRouter(include_in_schema=False)


TOO_MANY_LINKS = (
    "Too many invalid invitation links from your network. Wait a few minutes, "
    "then open the link from your invitation e-mail again."
)


class NotSignedIn(NotFound):
    code = "respondent_session_missing"
    title = "Open your invitation link"


def _row(request: Request) -> RespondentSession:
    row = current(request)
    if row is None:
        raise NotSignedIn(
            "Your session has ended or this page needs your invitation. Open the link from your "
            "invitation e-mail again; your saved draft is kept."
        )
    return row


@router.get("/i/{token}")
def open_invitation(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    guard: ThrottleGuard,
    token: str,
    _: RespondentActor,
) -> Response:
    """Exchange the invitation token for a session and go to a token-free address."""
    try:
        raw, _opened = respondents.open_session(
            session,
            token,
            now=utcnow(),
            language=i18n.normalise(request.query_params.get("lang")),
            request_id=request_id(request),
        )
    except InvitationNotFound as exc:
        # Only failures count, and a valid link always works: colleagues behind the same
        # address are never locked out by someone else's guessing. The answer is returned,
        # not raised, so that the request's transaction commits the count.
        wait = count_invalid_link(session, guard, source_address(request))
        if wait is None:
            return render_error_page(request, 404, exc.title, exc.detail)
        page = render_error_page(request, 429, "Too many attempts", TOO_MANY_LINKS)
        page.headers["Retry-After"] = str(wait)
        return page
    schedule_cookie(request, CookieChange(cookie_name(settings), raw, max_age=24 * 3600))
    return RedirectResponse("/r/", status_code=303, headers={"Referrer-Policy": "no-referrer"})


@router.get("/r/", response_class=HTMLResponse)
def overview(request: Request, session: DbSession, _: RespondentActor) -> HTMLResponse:
    """The centre's questionnaires in this campaign, with their status."""
    row = _row(request)
    campaign, centre = row.invitation.campaign, row.invitation.centre
    versions = campaign_versions(session, campaign)
    rendering.remember_language(request, row, list(i18n.UI_LANGUAGES))
    language = rendering.form_language(request, row, list(i18n.UI_LANGUAGES))
    mine = {r.questionnaire_id: r for r in responses_of_centre(session, campaign, centre)}
    items = []
    for version in versions:
        settings_ = version.definition["settings"]
        response = mine.get(version.questionnaire_id)
        items.append(
            {
                "form_id": settings_["form_id"],
                "title": settings_["title"].get(language)
                or next(iter(settings_["title"].values())),
                "status": response.status if response else "not_started",
                "submission_uuid": response.submission_uuid if response else None,
                "updated_at": response.updated_at if response else None,
            }
        )
    return templates.TemplateResponse(
        request,
        "respondent/overview.html",
        {
            "campaign": campaign,
            "centre": centre,
            "items": items,
            "open": campaign.accepts_answers(utcnow()),
            "language": language,
            "languages": list(i18n.UI_LANGUAGES.items()),
        },
    )


@router.get("/r/forms/{form_id}", response_class=HTMLResponse)
def form_page(
    request: Request, session: DbSession, form_id: str, _: RespondentActor
) -> HTMLResponse:
    """The questionnaire, with the draft as last saved."""
    row = _row(request)
    opened = respondent.open_form(session, row, form_id, now=utcnow())
    rendering.remember_language(request, row, compiled_version(opened.version).languages)
    saved = request.query_params.get("saved") == "1"
    return rendering.render_form(
        request,
        row=row,
        version=opened.version,
        response=opened.response,
        values=opened.response.answers,
        message=rendering.saved_message(request, row) if saved else "",
    )


@router.post("/r/forms/{form_id}", response_class=HTMLResponse)
def form_post(
    request: Request, session: DbSession, form_id: str, _: RespondentActor, data: PostedForm
) -> Response:
    """Save the draft (also on a language switch), or submit it."""
    row = _row(request)
    opened = respondent.open_form(session, row, form_id, now=utcnow())
    form = compiled_version(opened.version)
    answers = answers_from_form(form, data)
    action = str(data.get("action", "save"))
    if action == "submit_saved":  # from the review page: submit the draft as saved
        return _submit(request, session, row, opened, dict(opened.response.answers), None)
    expected = _expected_version(data.get("expected_version"))
    wanted = action.removeprefix("lang:")[:10] if action.startswith("lang:") else ""
    if wanted and (wanted in form.languages or i18n.normalise(wanted) == wanted):
        row.language = wanted
    _apply_row_action(form, answers, action)
    try:
        if action == "submit":  # a draft is submitted as typed; a submitted one is replayed
            return _submit(request, session, row, opened, answers, expected)
        # A save on a response that is no longer a draft is refused here (409), never lost.
        validated = respondent.save_answers(
            session,
            row,
            opened,
            answers,
            expected_version=expected,
            now=utcnow(),
            request_id=request_id(request),
        )
    except (StaleVersion, CampaignClosed, AlreadyFinalised, Withdrawn) as exc:
        return rendering.not_saved(request, row, opened, answers, exc)
    return rendering.saved(request, row, opened, answers, validated, action)


def _expected_version(value: object) -> int:
    """The version the page was read at; anything else matches no version (a stale page)."""
    try:
        return int(str(value if value is not None else ""))
    except ValueError:
        return -1


def _apply_row_action(form: Any, answers: dict[str, Any], action: str) -> None:
    """Without JavaScript, "Add a row" and "Remove this row" are submit buttons."""
    kind, _, target = action.partition(":")
    name, _, index = target.partition(":")
    question = form.by_name.get(name)
    if kind not in {"add", "remove"} or question is None or question.kind != "repeat":
        return
    rows = answers.setdefault(name, [])
    if kind == "add" and len(rows) < 500:
        rows.append({})
    elif kind == "remove" and index.isdigit() and int(index) < len(rows):
        rows.pop(int(index))


def _submit(
    request: Request,
    session: DbSession,
    row: RespondentSession,
    opened: RespondentForm,
    answers: dict[str, Any],
    expected: int | None,
) -> Response:
    """Submit (see :func:`surveys.responses.respondent.submit_answers`), then the receipt; with
    invalid answers the form comes back (422) with what needs attention."""
    try:
        outcome = respondent.submit_answers(
            session,
            row,
            opened,
            answers,
            expected_version=expected,
            now=utcnow(),
            request_id=request_id(request),
        )
    except InvalidAnswers as exc:
        return rendering.render_form(
            request,
            row=row,
            version=opened.version,
            response=opened.response,
            values=answers,
            status_code=422,
            problems=exc.validated.errors,
            message=rendering.texts(request, row).gettext(
                "Some answers need attention before you can submit."
            ),
            message_kind="error",
        )
    return RedirectResponse(f"/r/receipt/{outcome.response.submission_uuid}", status_code=303)


@router.get("/r/forms/{form_id}/review", response_class=HTMLResponse)
def review_page(
    request: Request, session: DbSession, form_id: str, _: RespondentActor
) -> HTMLResponse:
    """Every answer with its question, and what still needs attention, before submitting."""
    row = _row(request)
    opened = respondent.open_form(session, row, form_id, now=utcnow())
    campaign, response = row.invitation.campaign, opened.response
    form = compiled_version(opened.version)
    language = rendering.form_language(request, row, form.languages, form.default_language)
    validated = validate_answers(form, response.answers, language=language)
    view = FormView(form, validated.answers, language, validated.errors)
    return templates.TemplateResponse(
        request,
        "respondent/review.html",
        {
            "form": form,
            "fields": view.fields(),
            "problems": validated.errors,
            "error_links": rendering.error_links(form, language, validated.errors, request),
            "response": response,
            "campaign": campaign,
            "centre": row.invitation.centre,
            "language": language,
            "title": form.definition["settings"]["title"].get(language, form.form_id),
            "can_submit": validated.ok
            and response.status == ResponseStatus.DRAFT
            and campaign.accepts_answers(utcnow()),
        },
    )


@router.get("/r/receipt/{submission_uuid}", response_class=HTMLResponse)
def receipt(
    request: Request, session: DbSession, submission_uuid: str, _: RespondentActor
) -> HTMLResponse:
    """A printable receipt of a submission."""
    row = _row(request)
    found = by_submission_uuid(session, submission_uuid[:64])
    if (
        found is None
        or found.centre_id != row.invitation.centre_id
        or found.status not in FINAL_STATUSES
    ):
        raise ResponseNotFound("No submitted questionnaire has this receipt number.")
    version = session.get_one(QuestionnaireVersion, found.questionnaire_version_id)
    form = compiled_version(version)
    language = rendering.form_language(request, row, form.languages, form.default_language)
    view = FormView(form, found.answers, language)
    return templates.TemplateResponse(
        request,
        "respondent/receipt.html",
        {
            "response": found,
            "fields": view.fields(),
            "centre": row.invitation.centre,
            "campaign": row.invitation.campaign,
            "language": language,
            "title": form.definition["settings"]["title"].get(language, form.form_id),
        },
    )


@router.post("/r/logout")
def respondent_logout(
    request: Request, session: DbSession, settings: AppSettings, _: RespondentActor
) -> Response:
    """End the respondent session (the draft stays saved)."""
    row = current(request)
    if row is not None:
        respondents.end_session(session, row)
    schedule_cookie(request, CookieChange(cookie_name(settings), None))
    return RedirectResponse("/", status_code=303)
