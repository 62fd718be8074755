"""Fill a questionnaire for a demo centre: each question's rule, or a cautious default.

Numbers are kept inside the question's own constraint, whole where the question asks for a whole
number, and an activity count ("... a year") is never the reference year itself. Skip logic is
left to the submission service, which drops the answers that do not apply.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

from surveys.demo.answers.rules import Draw, FormRules, available, reimbursement, weeks, whole
from surveys.demo.capacity import CentreFacts
from surveys.questionnaires.definitions.compiled import CompiledForm, Question
from surveys.questionnaires.definitions.model import GENERATED_OTHER_SUFFIX

BOUND = re.compile(r"\.\s*(?P<op>>=|<=|>|<)\s*(?P<value>-?\d+(?:\.\d+)?)")
SYNTHETIC_NOTE = "Synthetic demo answer: made up for the demo, not a real centre's figure."


def bounds(question: Question) -> tuple[float, float]:
    """The lowest and highest number the question's constraint allows (0 and up by default)."""
    low, high = 0.0, math.inf
    for match in BOUND.finditer(question.source_json.get("constraint", "")):
        value = float(match["value"])
        if match["op"] in {">=", ">"}:
            low = value + (1 if match["op"] == ">" else 0)
        else:
            high = value - (1 if match["op"] == "<" else 0)
    return low, max(low, high)


def is_activity_count(question: Question) -> bool:
    """A count of things done in a year ("patients a year"), not a calendar year."""
    return (
        question.kind == "integer"
        and question.name.endswith("_year")
        and not question.name.endswith(("reference_year", "year_installed"))
    )


def _number(question: Question, value: float, facts: CentreFacts) -> int | float:
    low, high = bounds(question)
    value = min(high, max(low, value))
    if question.kind != "integer":
        return round(value, 1)
    number = round(value)
    if is_activity_count(question) and number == facts.reference_year:
        number += 1 if number < high else -1
    return number


def _default(form: CompiledForm, question: Question, draw: Draw) -> Any:
    """An answer to a question no rule covers (a form from outside the built-in catalogue)."""
    kind, name = question.kind, question.name
    if kind in {"integer", "decimal"}:
        if name.endswith("year") and not is_activity_count(question):
            return draw.facts.reference_year
        if name.endswith("_weeks"):
            return weeks(1, 6)(draw)
        if "fte" in name:
            return round(draw.uniform(0, 3), 1)
        if is_activity_count(question):
            return whole(10, 200, scaled=True)(draw)
        return whole(0, 5)(draw)
    if kind == "range":
        return int(float(question.parameters.get("start", 0)))
    if kind == "date":
        month, day = draw.rng.randint(1, 12), draw.rng.randint(1, 28)
        return f"{draw.facts.reference_year}-{month:02d}-{day:02d}"
    if kind == "acknowledge":
        return "OK"
    if kind == "text":
        if question.identifier:  # personal data: clearly fake values, never a real person
            if "mail" in name:
                return f"contact{draw.rng.randint(1, 9999)}@example.org"
            return "Synthetic Contact"
        return SYNTHETIC_NOTE if draw.chance(0.15) else ""
    options = [c.name for c in form.options(question) if c.name != "other"]
    if not options:
        return ""
    if kind == "select_one":
        if question.list_name == "reimbursement":
            return reimbursement(draw)
        if "yes" in options:
            answer = available(0.4)(draw)
            return answer if answer in options else "no"
        return draw.rng.choice(options)
    chosen = [o for o in options if o != "none" and draw.chance(0.3)]
    return (chosen or [options[0]]) + _other_barrier(form, question, draw)


OTHER_BARRIERS = (
    "Synthetic demo answer: the regional health authority has not yet approved the service.",
    "Synthetic demo answer: the tender for replacement equipment is delayed.",
    "Synthetic demo answer: patients' travel to the centre is not reimbursed.",
    "Synthetic demo answer: the service depends on one consultant close to retirement.",
)
OTHER_BARRIER_SHARE = 0.02


def _other_barrier(form: CompiledForm, question: Question, draw: Draw) -> list[str]:
    """["other"] for a few centres answering a barrier question with an "other" choice, whose
    text goes beside it, so the barrier pages list some; [] for every other answer. Drawn from
    a source of its own (the centre and the question), so the rest of the demo stays as it was."""
    if not question.name.endswith("barriers") or "other" not in {
        c.name for c in form.options(question)
    }:
        return []
    own = random.Random(f"{draw.facts.respondent.id}:{question.name}")  # noqa: S311 - demo data
    if own.random() >= OTHER_BARRIER_SHARE:
        return []
    draw.answers[question.name + GENERATED_OTHER_SUFFIX] = own.choice(OTHER_BARRIERS)
    return ["other"]


def _fill(
    form: CompiledForm, questions: list[Question], rules: FormRules, draw: Draw
) -> dict[str, Any]:
    for question in questions:
        if question.kind == "group":
            _fill(form, question.children, rules, draw)
        elif question.kind == "repeat":
            count = rules.rows[question.name](draw) if question.name in rules.rows else 0
            rows = []
            for index in range(count):
                row = Draw(draw.facts, draw.rng, {}, row=index)
                rows.append(_fill(form, question.children, rules, row))
            draw.answers[question.name] = rows
        elif question.takes_answer and not question.generated:
            rule = rules.values.get(question.name)
            value = rule(draw) if rule is not None else _default(form, question, draw)
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = _number(question, value, draw.facts)
            if value not in ("", [], None):
                draw.answers[question.name] = value
    return draw.answers


def synthetic_answers(
    form: CompiledForm, rules: FormRules, facts: CentreFacts, rng: random.Random
) -> dict[str, Any]:
    """A synthetic centre's answers to ``form``: its rules, its facts, ``rng`` for the rest."""
    return _fill(form, form.questions, rules, Draw(facts, rng, {}))
