"""How the respondent's pages are drawn: the form with its problems and messages, in the
respondent's language, and the answers to a save (a page, a redirect, or JSON for autosave).

Page-only helpers: they read and render, and change nothing but the respondent's language.
"""

from __future__ import annotations

from gettext import NullTranslations
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from surveys.campaigns.errors import CampaignClosed
from surveys.campaigns.models import RespondentSession
from surveys.db import utcnow
from surveys.questionnaires.answers import ValidatedAnswers
from surveys.questionnaires.definitions.compiled import compiled_version
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.responses.errors import AlreadyFinalised, StaleVersion, Withdrawn
from surveys.responses.models import Response as ResponseRow
from surveys.responses.models import ResponseStatus
from surveys.responses.respondent import RespondentForm
from web import i18n
from web.forms.questionnaire import FormView, has_geopoint, logic_json
from web.templating import templates


def form_language(
    request: Request, row: RespondentSession, languages: list[str], default: str | None = None
) -> str:
    """The language of the form content: ``?lang=``, else the respondent's choice, else the
    browser's; the interface follows it where a catalogue exists (``request.state``)."""
    requested = request.query_params.get("lang")
    accept = request.headers.get("accept-language", "")
    request.state.ui_language = i18n.negotiate(
        requested=requested, stored=row.language, accept_language=accept
    )
    return i18n.negotiate(
        requested=requested,
        stored=row.language,
        accept_language=accept,
        available=languages,
        default=default,
    )


def remember_language(request: Request, row: RespondentSession, languages: list[str]) -> None:
    """A ``?lang=`` the form or the interface offers becomes the respondent's choice."""
    wanted = request.query_params.get("lang", "")[:10].lower()
    if wanted in languages or i18n.normalise(wanted) == wanted:
        row.language = wanted


def render_form(
    request: Request,
    *,
    row: RespondentSession,
    version: QuestionnaireVersion,
    response: ResponseRow,
    values: dict[str, Any],
    status_code: int = 200,
    problems: list[Any] | None = None,
    message: str = "",
    message_kind: str = "info",
    current_values: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> HTMLResponse:
    form = compiled_version(version)
    language = form_language(request, row, form.languages, form.default_language)
    view = FormView(form, values, language, problems)
    campaign = row.invitation.campaign
    read_only = response.status != ResponseStatus.DRAFT or not campaign.accepts_answers(utcnow())
    return templates.TemplateResponse(
        request,
        "respondent/form.html",
        {
            "form": form,
            "fields": view.fields(),
            "language": language,
            "languages": [(code, i18n.language_name(code)) for code in form.languages],
            "title": form.definition["settings"]["title"].get(language, form.form_id),
            "response": response,
            "campaign": campaign,
            "centre": row.invitation.centre,
            "logic": logic_json(form),
            "geopoint": has_geopoint(form) and not read_only,
            "problems": problems or [],
            "message": message,
            "message_kind": message_kind,
            "read_only": read_only,
            "current_values": current_values,
            "error_links": error_links(form, language, problems or [], request),
            "expected_version": expected_version
            if expected_version is not None
            else response.version,
        },
        status_code=status_code,
    )


def error_links(
    form: Any, language: str, problems: list[Any], request: Request
) -> list[dict[str, str]]:
    """Each problem as a link to its field, named by the question's label."""
    catalogue = i18n.translations(request.state.ui_language)
    links = []
    for problem in problems:
        parts = [str(part) for part in problem.loc]
        question = form.by_name.get(parts[-1]) if parts else None
        label = question.text(question.label, language, form.default_language) if question else ""
        row = (
            " (" + catalogue.gettext("row %(number)s") % {"number": int(parts[-2]) + 1} + ")"
            if len(parts) >= 3 and parts[-2].isdigit()
            else ""
        )
        links.append(
            {
                "href": "#q-" + "-".join(parts),
                "text": f"{label or parts[-1]}{row}{_separator(label, row)}{problem.message}",
            }
        )
    return links


def _separator(label: str, row: str) -> str:
    """A label ending in its own punctuation ("Any PET/CT?") needs no colon before the message."""
    return " " if not row and label.rstrip().endswith(("?", ".", "!", ":")) else ": "


def texts(request: Request, row: RespondentSession) -> NullTranslations:
    """The catalogue of the respondent's interface language, for messages made here."""
    language = getattr(request.state, "ui_language", None) or i18n.negotiate(
        requested=request.query_params.get("lang"),
        stored=row.language,
        accept_language=request.headers.get("accept-language", ""),
    )
    return i18n.translations(language)


def saved_message(request: Request, row: RespondentSession) -> str:
    return texts(request, row).gettext("Your answers are saved.")


def conflict_message(request: Request, row: RespondentSession, exc: Exception) -> str:
    """The service's conflict, said in the respondent's language."""
    catalogue = texts(request, row)
    if isinstance(exc, StaleVersion):
        return catalogue.gettext(
            "Someone else saved this questionnaire at %(time)s; your copy is out of date."
        ) % {"time": exc.current.updated_at.strftime("%Y-%m-%d %H:%M UTC")}
    if isinstance(exc, CampaignClosed):
        return catalogue.gettext(
            "The campaign is closed: nothing can be saved or submitted any more. Your draft "
            "is kept and stays readable; contact your coordinator if you need more time."
        )
    if isinstance(exc, AlreadyFinalised):
        return catalogue.gettext("This questionnaire was already submitted.")
    if isinstance(exc, Withdrawn):
        return catalogue.gettext("This response has been withdrawn and cannot be changed.")
    return str(exc)


def wants_json(request: Request) -> bool:
    """The page's script autosaves with ``Accept: application/json``."""
    return "application/json" in request.headers.get("accept", "")


def not_saved(
    request: Request,
    row: RespondentSession,
    opened: RespondentForm,
    answers: dict[str, Any],
    exc: StaleVersion | CampaignClosed | AlreadyFinalised | Withdrawn,
) -> Response:
    """A refused save or submission (409), with what the respondent typed kept."""
    stale = exc if isinstance(exc, StaleVersion) else None
    if wants_json(request):
        body: dict[str, Any] = {"code": exc.code, "detail": exc.detail}
        if stale is not None:
            body |= {
                "current_version": stale.current.version,
                "current_saved_at": stale.current.updated_at.isoformat(),
                "current_answers": stale.current.answers,
                "your_answers": answers,
            }
        return JSONResponse(body, status_code=409)
    return render_form(
        request,
        row=row,
        version=opened.version,
        response=stale.current if stale else opened.response,
        values=answers,
        status_code=409,
        message=conflict_message(request, row, exc),
        message_kind="error",
        current_values=stale.current.answers if stale else None,
        expected_version=stale.current.version if stale else None,
    )


def saved(
    request: Request,
    row: RespondentSession,
    opened: RespondentForm,
    answers: dict[str, Any],
    validated: ValidatedAnswers,
    action: str,
) -> Response:
    """After a save: the new version (autosave), the next page, or the form with its problems."""
    response, form_id = opened.response, compiled_version(opened.version).form_id
    if wants_json(request):
        return JSONResponse(
            {
                "version": response.version,
                "saved_at": response.updated_at.isoformat(),
                "errors": [{"loc": list(e.loc), "message": e.message} for e in validated.errors],
            }
        )
    if action == "review":
        return RedirectResponse(f"/r/forms/{form_id}/review", status_code=303)
    if action.startswith(("add:", "remove:")):
        return RedirectResponse(f"/r/forms/{form_id}?saved=1", status_code=303)
    if action.startswith("lang:"):
        return RedirectResponse(f"/r/forms/{form_id}?saved=1&lang={row.language}", status_code=303)
    return render_form(
        request,
        row=row,
        version=opened.version,
        response=response,
        values=answers,
        problems=validated.errors,
        message=saved_message(request, row),
    )
