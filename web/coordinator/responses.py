"""Coordinator pages for submitted responses: the list, review with comments, corrections
(kept as versions), withdrawal and the diff between versions. Drafts never appear here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.auth import ResponseEditor, ResponseReader
from api.deps import DbSession
from surveys.campaigns import lifecycle
from surveys.errors import DomainError
from surveys.policy import Actor, Permission
from surveys.questionnaires.definitions.compiled import CompiledForm, compiled_form
from surveys.responses import history, queries, review
from surveys.responses.errors import InvalidAnswers, StaleVersion
from surveys.responses.models import Response as ResponseRow
from surveys.responses.models import ResponseStatus, ReviewState
from surveys.responses.schemas import ReviewUpdate
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
from web.forms.answers import answers_from_form
from web.forms.questionnaire import FormView

router = APIRouter(prefix="/coordinator")

FilterText = Annotated[str, Query(max_length=100)]
PER_PAGE = 50
REVIEW_STATES = review.REVIEW_STATES
# Fields of the correction form that are not answers (so a question can never collide with them).
CORRECTION_CONTROLS = frozenset({"csrf_token", "expected_version", "correction_reason", "action"})
STALE_CORRECTION = "Your corrections are kept below; check the current answers, then save again."


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
            "campaigns": lifecycle.visible_campaigns(session, actor),
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
    versions = history.list_versions(session, found)
    editable = (
        Permission.RESPONSES_EDIT in actor.permissions and found.status != ResponseStatus.WITHDRAWN
    )
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
                "state": detail.review_state or ReviewState.RECEIVED,
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


def _kept(found: ResponseRow, form: dict[str, Any]) -> dict[str, Any]:
    """The page's forms with what was just typed, the other forms as fresh."""
    return {
        "state": found.review_state or ReviewState.RECEIVED,
        "comment": "",
        "answers_json": json.dumps(found.answers, ensure_ascii=False, indent=2),
        "reason": "",
        "withdraw_reason": "",
        **form,
    }


def _refused(
    request: Request,
    session: DbSession,
    actor: Actor,
    response_id: int,
    form: dict[str, Any],
    status: int,
    errors: FormErrors,
    **shown: Any,
) -> HTMLResponse:
    """The response page again, with the problem and with what was typed kept."""
    found = queries.visible_response(session, actor, response_id)
    return _response_page(
        request,
        session,
        actor,
        response_id,
        status=status,
        errors=errors,
        form=_kept(found, form),
        **shown,
    )


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
    form = {"state": clean_text(state, 20), "comment": clean_text(comment, 5000)}
    expected = _expected(expected_version) if expected_version else None
    try:
        data = ReviewUpdate.model_validate({**form, "expected_version": expected})
        review.review_response(
            session,
            actor,
            response_id,
            state=data.state,
            comment=data.comment,
            expected_version=data.expected_version,
            request_id=request_id(request),
        )
    except ValidationError as exc:
        return _refused(request, session, actor, response_id, form, 422, validation_errors(exc))
    except StaleVersion as exc:
        errors = {"_": [exc.detail]}
        shown = {"expected_version": exc.current.version}
        return _refused(request, session, actor, response_id, form, 409, errors, **shown)
    except DomainError as exc:
        return _refused(request, session, actor, response_id, form, 422, domain_errors(exc))
    return RedirectResponse(f"/coordinator/responses/{response_id}", 303)


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


@dataclass
class Correction:
    """The correction form, read: the answers (from the fields or as JSON) and the reason."""

    form: dict[str, Any]
    expected: int
    answers: Any = None
    field_values: dict[str, Any] | None = None  # the fields as typed, to show them again
    row_action: bool = False  # "Add a row" or "Remove this row": nothing to save yet
    errors: FormErrors = field(default_factory=dict)


def _correction(compiled: CompiledForm, data: FormData) -> Correction:
    reason = clean_text(str(data.get("correction_reason", "")), 2000)
    action = str(data.get("action", "fields"))[:200]
    raw_json = clean_text(str(data.get("answers_json", "")), 1_000_000)
    read = Correction(
        {"reason": reason, "answers_json": raw_json},
        _expected(str(data.get("expected_version", ""))),
    )
    if action == "json":
        try:
            read.answers = json.loads(raw_json)
        except ValueError as exc:
            read.errors["answers_json"] = [f"not valid JSON: {exc}"]
        else:
            if not isinstance(read.answers, dict):
                read.errors["answers_json"] = ["give the answers as one JSON object"]
    else:
        fields = FormData([(k, v) for k, v in data.multi_items() if k not in CORRECTION_CONTROLS])
        read.answers = read.field_values = answers_from_form(compiled, fields)
        read.row_action = _row_action(compiled, read.answers, action)
    if not reason.strip():
        read.errors.setdefault("correction_reason", []).append("say why the answers are corrected")
    return read


@router.post("/responses/{response_id}/correct", response_class=HTMLResponse)
def correct_response(
    request: Request, session: DbSession, actor: ResponseEditor, response_id: int, data: PostedForm
) -> Response:
    """Correct the answers (field by field, or as JSON) with a reason: a new version."""
    found = queries.visible_response(session, actor, response_id)
    read = _correction(compiled_form(found.questionnaire_version.definition), data)
    shown: dict[str, Any] = {"field_values": read.field_values, "expected_version": read.expected}
    if read.row_action:
        return _refused(request, session, actor, response_id, read.form, 200, {}, **shown)
    if read.errors:
        return _refused(request, session, actor, response_id, read.form, 422, read.errors, **shown)
    try:
        review.correct_response(
            session,
            actor,
            response_id,
            read.answers,
            expected_version=read.expected,
            reason=read.form["reason"],
            request_id=request_id(request),
        )
    except StaleVersion as exc:
        shown |= {"expected_version": exc.current.version, "message": STALE_CORRECTION}
        errors = {"_": [exc.detail]}
        return _refused(request, session, actor, response_id, read.form, 409, errors, **shown)
    except InvalidAnswers as exc:
        shown["problems"] = exc.validated.errors
        errors = {"answers": [f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in exc.errors]}
        return _refused(request, session, actor, response_id, read.form, 422, errors, **shown)
    except DomainError as exc:
        errors = domain_errors(exc)
        return _refused(request, session, actor, response_id, read.form, 422, errors, **shown)
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
    form = {"withdraw_reason": clean_text(withdraw_reason, 2000)}
    try:
        review.withdraw_response(
            session,
            actor,
            response_id,
            reason=form["withdraw_reason"],
            expected_version=_expected(expected_version),
            request_id=request_id(request),
        )
    except StaleVersion as exc:
        errors = {"_": [exc.detail]}
        shown = {"expected_version": exc.current.version}
        return _refused(request, session, actor, response_id, form, 409, errors, **shown)
    except DomainError as exc:
        errors = {
            "withdraw_reason" if k == "reason" else k: v for k, v in domain_errors(exc).items()
        }
        return _refused(request, session, actor, response_id, form, 422, errors)
    return RedirectResponse(f"/coordinator/responses/{response_id}", 303)


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
    before = history.get_version(session, found, from_version)
    after = history.get_version(session, found, to_version)
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
            "changes": history.diff_answers(before.answers, after.answers),
            "label": label,
            "versions": history.list_versions(session, found),
        },
    )
