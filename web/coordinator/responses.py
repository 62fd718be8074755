"""Coordinator pages for submitted responses: the list, review with comments, corrections
(kept as versions), withdrawal and the diff between versions. Drafts never appear here.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.auth import ResponseEditor, ResponseReader
from api.deps import DbSession
from surveys.audit import service as audit
from surveys.campaigns import service as campaigns
from surveys.errors import DomainError
from surveys.policy import Actor, Permission
from surveys.questionnaires.definitions.compiled import CompiledForm, compiled_form
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

router = APIRouter(prefix="/coordinator")

FilterText = Annotated[str, Query(max_length=100)]
PER_PAGE = 50
REVIEW_STATES = responses.REVIEW_STATES
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
