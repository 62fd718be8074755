"""A questionnaire as the page shows it: fields with labels in the chosen language, the values
typed so far, the problems to show next to each field, and the logic the browser evaluates."""

from __future__ import annotations

import math
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from surveys.questionnaires.answers import (
    AnswerProblem,
    choice_columns,
    expression_context,
    validate_answers,
)
from surveys.questionnaires.definitions.compiled import CompiledForm, Question
from surveys.questionnaires.expressions import evaluate, to_json, truthy

INPUT_TYPES = {
    "integer": "number",
    "decimal": "number",
    "date": "date",
    "datetime": "datetime-local",
    "time": "time",
    "text": "text",
    "range": "range",
}


@dataclass
class Option:
    name: str
    label: str
    selected: bool


@dataclass
class Field:
    """One thing on the page: a question, a note, a group, a repeat or a matrix."""

    kind: str
    name: str
    html_id: str
    label: str
    hint: str = ""
    required: bool = False
    value: Any = ""
    error: str = ""
    relevant: bool = True
    input_type: str = "text"
    options: list[Option] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)
    template: list[Field] = field(default_factory=list)
    matrix_columns: list[str] = field(default_factory=list)
    matrix_rows: list[tuple[str, list[Field], float | None]] = field(default_factory=list)
    column_totals: list[float | None] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    label_template: str = ""


REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")


def _fill_references(text: str, scope: Mapping[str, Any]) -> str:
    """``Total: ${units_total}`` with the current value (blank when there is none)."""

    def value(match: re.Match[str]) -> str:
        found = scope.get(match.group(1), "")
        return "" if found is None or isinstance(found, list | dict) else str(found)

    return REFERENCE.sub(value, text)


def _text(question: Question, texts: Mapping[str, str], language: str, form: CompiledForm) -> str:
    return question.text(dict(texts), language, form.default_language)


def _html_id(prefix: str, name: str) -> str:
    return f"q-{prefix}{name}".replace(".", "-")


class FormView:
    def __init__(
        self,
        form: CompiledForm,
        values: Mapping[str, Any],
        language: str,
        problems: list[AnswerProblem] | None = None,
    ) -> None:
        self.form = form
        # A response not yet begun starts from the form's static defaults.
        self.values = dict(values) if values else defaults(form)
        self.language = language if language in form.languages else form.default_language
        self.errors = {problem.loc: problem.message for problem in problems or []}

    def fields(self) -> list[Field]:
        # Calculations are computed as the server would on submission, so notes that show a
        # total and conditions that read a calculation are right even without JavaScript.
        computed = validate_answers(self.form, self.values, partial=True).answers
        calculated = {q.name for q in self.form.calculation_order}
        scope = {**self.values, **{k: v for k, v in computed.items() if k in calculated}}
        return [
            self._field(q, self.values, "", (), scope)
            for q in self.form.questions
            if not q.is_metadata
        ]

    def _relevant(self, question: Question, scope: Mapping[str, Any]) -> bool:
        if question.relevant is None:
            return True
        return truthy(evaluate(question.relevant, expression_context(scope)))

    def _field(
        self,
        question: Question,
        values: Mapping[str, Any],
        prefix: str,
        loc: tuple[str | int, ...],
        scope: Mapping[str, Any],
    ) -> Field:
        name = prefix + question.name
        label = _text(question, question.label, self.language, self.form)
        item = Field(
            kind=question.kind,
            name=name,
            html_id=_html_id("", name),
            label=_fill_references(label, scope) if "${" in label else label,
            label_template=label if "${" in label else "",
            hint=_text(question, question.hint, self.language, self.form) if question.hint else "",
            required=question.required is True,
            relevant=self._relevant(question, scope),
            error=self.errors.get((*loc, question.name), ""),
            attributes={"data-name": question.name},
        )
        if question.kind == "group":
            if question.is_matrix:
                self._matrix(item, question, values, prefix, loc, scope)
            else:
                item.children = [
                    self._field(q, values, prefix, loc, scope) for q in question.children
                ]
            return item
        if question.kind == "repeat":
            rows = values.get(question.name) or []
            rows = rows if isinstance(rows, list) else []
            for index, row in enumerate(rows):
                row_values = row if isinstance(row, dict) else {}
                inner = ChainMap(row_values, dict(scope))
                item.rows.append(
                    [
                        self._field(
                            q, row_values, f"{name}.{index}.", (*loc, question.name, index), inner
                        )
                        for q in question.children
                    ]
                )
            item.template = [
                self._field(q, {}, f"{name}.__index__.", (), {}) for q in question.children
            ]
            return item
        value = values.get(question.name, "")
        item.value = value
        item.input_type = INPUT_TYPES.get(question.kind, "text")
        if question.kind in {"select_one", "select_multiple"}:
            chosen = set(value if isinstance(value, list) else str(value).split())
            item.options = [
                Option(
                    c.name,
                    question.text(c.label, self.language, self.form.default_language),
                    c.name in chosen,
                )
                for c in self.form.options(question)
            ]
        if question.kind == "range":
            item.attributes.update(
                {
                    k: question.parameters[k]
                    for k in ("start", "end", "step")
                    if k in question.parameters
                }
            )
        if question.kind == "decimal":
            item.attributes["step"] = "any"
        if question.kind == "geopoint":
            item.attributes["data-geopoint"] = "yes"
            item.attributes["placeholder"] = "48.8566 2.3522"
        if question.choice_filter is not None:
            item.attributes["data-choice-filter"] = "yes"
        if question.kind == "calculate":
            item.value = "" if isinstance(value, float) and math.isnan(value) else value
        return item

    def _matrix(
        self,
        item: Field,
        group: Question,
        values: Mapping[str, Any],
        prefix: str,
        loc: tuple[str | int, ...],
        scope: Mapping[str, Any],
    ) -> None:
        cells = [self._field(q, values, prefix, loc, scope) for q in group.children]
        if "columns" in group.parameters:
            list_name = group.parameters["columns"]
            columns = self.form.choices.get(list_name, [])
            item.matrix_columns = [
                group.text(c.label, self.language, self.form.default_language) for c in columns
            ]
            by_row: dict[str, list[Field]] = {}
            labels: dict[str, str] = {}
            for cell, question in zip(cells, group.children, strict=True):
                row = question.matrix_cell[0] if question.matrix_cell else question.name
                by_row.setdefault(row, []).append(cell)
                labels.setdefault(row, cell.label)
            grid = [(labels[row], row_cells) for row, row_cells in by_row.items()]
        else:
            item.matrix_columns = [""]
            grid = [(cell.label, [cell]) for cell in cells if cell.kind != "note"]
            item.children = [cell for cell in cells if cell.kind == "note"]
        item.matrix_rows = [
            (label, row_cells, _total([c.value for c in row_cells])) for label, row_cells in grid
        ]
        item.column_totals = [
            _total([row_cells[i].value for _, row_cells in grid if i < len(row_cells)])
            for i in range(len(item.matrix_columns))
        ]


def defaults(form: CompiledForm) -> dict[str, Any]:
    """The static ``default`` of each top-level question, as a new response's first values."""
    found: dict[str, Any] = {}
    for question in form.walk():
        if question.default and question.takes_answer and question.repeat is None:
            found[question.name] = (
                question.default.split() if question.kind == "select_multiple" else question.default
            )
    return found


def _total(values: list[Any]) -> float | None:
    """The sum of the numbers typed in cells (blanks and non-numbers left out), or None."""
    numbers = []
    for value in values:
        try:
            number = float(str(value).replace(",", "."))
        except ValueError:
            continue
        if math.isfinite(number):
            numbers.append(number)
    if not numbers:
        return None
    total = float(sum(numbers))
    return int(total) if total.is_integer() else total


def logic_json(form: CompiledForm) -> dict[str, Any]:
    """The expressions the browser evaluates live, as the shared JSON AST."""
    logic: dict[str, Any] = {}
    for question in form.walk():
        entry: dict[str, Any] = {"kind": question.kind, "repeat": question.repeat}
        for column in ("relevant", "constraint", "calculation", "choice_filter"):
            node = getattr(question, column)
            if node is not None:
                entry[column] = to_json(node)
        if question.required is True:
            entry["required"] = True
        elif question.required is not False:
            entry["required"] = to_json(question.required)
        if question.constraint_message:
            entry["constraint_message"] = question.constraint_message
        if question.choice_filter is not None:
            entry["choices"] = {c.name: choice_columns(c) for c in form.options(question)}
        logic[question.name] = entry
    return logic
