"""Reading responses as staff do: lists with filters, one response, its answers with labels.

Authorization is in the queries (RELIABILITY.md 3.2, scenario 33): a domain lead's queries carry
``questionnaire.domain IN (their domains)`` (and their countries, when their scope names any),
so a response outside their scope is simply not found, exactly like a missing one.

Drafts are the centre's business until they are submitted: no query here returns a draft.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, joinedload

from surveys.campaigns.models import Campaign
from surveys.policy import Actor, country_clause, domain_clause
from surveys.questionnaires.definitions.compiled import CompiledForm, Question
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.registry.models import Centre, Country
from surveys.responses.errors import ResponseNotFound
from surveys.responses.history import list_comments
from surveys.responses.models import Response, ResponseComment, ResponseStatus
from surveys.responses.schemas import CommentRead, ResponsePage, ResponseRead, ResponseSummary

# What staff see: submitted responses, and withdrawn ones (kept, marked); never a draft.
VISIBLE_STATUSES = (ResponseStatus.SUBMITTED, ResponseStatus.APPROVED, ResponseStatus.WITHDRAWN)
MAX_PER_PAGE = 200
NOT_FOUND = "No such response."


@dataclass(frozen=True)
class ResponseFilter:
    """Filters of the response list; every one optional."""

    campaign: str | None = None
    review_state: str | None = None
    status: str | None = None
    country: str | None = None
    form_id: str | None = None
    domain: str | None = None


def _in_scope(actor: Actor) -> list[ColumnElement[bool]]:
    return [
        Response.status.in_(VISIBLE_STATUSES),
        domain_clause(actor, Questionnaire.domain),
        country_clause(actor, Country.iso2),
    ]


_Ts = TypeVarTuple("_Ts")


def _joined(query: Select[*_Ts]) -> Select[*_Ts]:
    return (
        query.join(Campaign, Campaign.id == Response.campaign_id)
        .join(Centre, Centre.id == Response.centre_id)
        .join(Country, Country.id == Centre.country_id)
        .join(Questionnaire, Questionnaire.id == Response.questionnaire_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id)
    )


def _summaries() -> Select[*tuple[Any, ...]]:
    comments = (
        select(func.count(ResponseComment.id))
        .where(ResponseComment.response_id == Response.id)
        .correlate(Response)
        .scalar_subquery()
    )
    return _joined(
        select(
            Response.id,
            Campaign.slug.label("campaign"),
            Centre.public_id.label("centre_id"),
            Centre.name.label("centre_name"),
            Country.iso2.label("country"),
            Questionnaire.form_id,
            QuestionnaireVersion.version.label("questionnaire_version"),
            Questionnaire.domain,
            Response.status,
            Response.review_state,
            Response.version,
            Response.submitted_at,
            Response.updated_at,
            comments.label("comments"),
        ).select_from(Response)
    )


def _filters(filters: ResponseFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.campaign:
        conditions.append(Campaign.slug == filters.campaign)
    if filters.review_state:
        conditions.append(Response.review_state == filters.review_state)
    if filters.status:
        conditions.append(Response.status == filters.status)
    if filters.country:
        conditions.append(Country.iso2 == filters.country.upper())
    if filters.form_id:
        conditions.append(Questionnaire.form_id == filters.form_id)
    if filters.domain:
        conditions.append(Questionnaire.domain == filters.domain)
    return conditions


def list_responses(
    session: Session,
    actor: Actor,
    filters: ResponseFilter,
    *,
    page: int = 1,
    per_page: int = 50,
) -> ResponsePage:
    """Submitted, approved and withdrawn responses in the actor's scope, newest first."""
    page = max(page, 1)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    conditions = [*_in_scope(actor), *_filters(filters)]
    total = session.scalar(
        _joined(select(func.count(Response.id)).select_from(Response)).where(*conditions)
    )
    rows = session.execute(
        _summaries()
        .where(*conditions)
        .order_by(Response.updated_at.desc(), Response.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return ResponsePage(
        items=[ResponseSummary.model_validate(dict(row._mapping)) for row in rows],
        total=total or 0,
        page=page,
        per_page=per_page,
    )


def _checked_id(response_id: int) -> int:
    if not 0 < response_id < 2**31:
        raise ResponseNotFound(NOT_FOUND)
    return response_id


def response_summary(session: Session, actor: Actor, response_id: int) -> ResponseSummary:
    """One response's summary line, within the actor's scope."""
    row = session.execute(
        _summaries().where(Response.id == _checked_id(response_id), *_in_scope(actor))
    ).first()
    if row is None:
        raise ResponseNotFound(NOT_FOUND)
    return ResponseSummary.model_validate(dict(row._mapping))


def visible_response(session: Session, actor: Actor, response_id: int) -> Response:
    """The response itself (to review, correct or withdraw), within the actor's scope.

    A draft, another domain's response and a missing id all answer the same "not found".
    """
    found = session.scalar(
        _joined(select(Response))
        .where(Response.id == _checked_id(response_id), *_in_scope(actor))
        .options(joinedload(Response.questionnaire_version))
    )
    if found is None:
        raise ResponseNotFound(NOT_FOUND)
    return found


def read_response(session: Session, actor: Actor, response_id: int) -> ResponseRead:
    """A response with its answers and review comments, within the actor's scope."""
    summary = response_summary(session, actor, response_id)
    found = visible_response(session, actor, response_id)
    return ResponseRead(
        **summary.model_dump(),
        answers=found.answers,
        answers_hash=found.answers_hash,
        review_comments=[CommentRead.model_validate(c) for c in list_comments(session, found)],
    )


# --- answers with their labels ----------------------------------------------------------------


@dataclass(frozen=True)
class AnswerLine:
    """One line of a response as a reviewer reads it: a heading, or a question and its answer."""

    kind: str  # heading | answer
    label: str
    value: str = ""
    name: str = ""
    depth: int = 0


def _choice_labels(form: CompiledForm, question: Question, value: Any, language: str) -> str:
    labels = {
        c.name: question.text(c.label, language, form.default_language)
        for c in form.options(question)
    }
    codes = value if isinstance(value, list) else str(value).split()
    return ", ".join(labels.get(str(code), str(code)) for code in codes)


def _display(form: CompiledForm, question: Question, value: Any, language: str) -> str:
    if question.kind in {"select_one", "select_multiple"}:
        return _choice_labels(form, question, value, language)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _has_answer(question: Question, values: Mapping[str, Any]) -> bool:
    if question.kind == "group":
        return any(_has_answer(child, values) for child in question.children)
    value = values.get(question.name)
    return value not in (None, "", [])


def _lines(
    form: CompiledForm,
    questions: list[Question],
    values: Mapping[str, Any],
    language: str,
    depth: int,
    prefix: str,
) -> list[AnswerLine]:
    lines: list[AnswerLine] = []
    for question in questions:
        label = question.text(question.label, language, form.default_language) or question.name
        if question.kind == "group":
            if _has_answer(question, values):
                lines.append(AnswerLine("heading", label, depth=depth))
                lines.extend(_lines(form, question.children, values, language, depth + 1, prefix))
        elif question.kind == "repeat":
            rows = values.get(question.name)
            if isinstance(rows, list) and rows:
                lines.append(AnswerLine("heading", label, depth=depth))
                for index, row in enumerate(rows, start=1):
                    name = f"{prefix}{question.name}[{index}]"
                    lines.append(AnswerLine("heading", f"{label} {index}", depth=depth + 1))
                    row_values = row if isinstance(row, dict) else {}
                    lines.extend(
                        _lines(form, question.children, row_values, language, depth + 2, f"{name}.")
                    )
        elif question.takes_answer or question.kind == "calculate":
            value = values.get(question.name)
            if value not in (None, "", []):
                lines.append(
                    AnswerLine(
                        "answer",
                        label,
                        _display(form, question, value, language),
                        f"{prefix}{question.name}",
                        depth,
                    )
                )
    return lines


def labelled_answers(
    form: CompiledForm, answers: Mapping[str, Any], language: str
) -> list[AnswerLine]:
    """The answers with their questions' labels (and choices' labels) in ``language``.

    Answers to names the form does not know are listed at the end under their raw names, so a
    reviewer never misses a stored value.
    """
    language = language if language in form.languages else form.default_language
    lines = _lines(form, form.questions, answers, language, 0, "")
    known = set(form.by_name)
    unknown = [name for name in answers if name not in known]
    if unknown:
        lines.append(AnswerLine("heading", "Not in the questionnaire"))
        lines.extend(
            AnswerLine("answer", name, str(answers[name]), name, 1) for name in sorted(unknown)
        )
    return lines


def response_language(form: CompiledForm, wanted: list[str]) -> str:
    """The first of the reader's languages the form has, else the form's default language."""
    for code in wanted:
        if code in form.languages:
            return code
    return form.default_language
