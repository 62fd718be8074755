"""Row types and columns: supported types, what each type needs, and unsupported features."""

from __future__ import annotations

from collections.abc import Iterator

from surveys.questionnaires.definitions.model import (
    IGNORED_COLUMNS,
    QUESTION_TYPES,
    SUPPORTED_TYPES,
    SURVEY_COLUMNS,
    UNSUPPORTED_LOGIC_COLUMNS,
    UNSUPPORTED_TYPES,
    split_column,
)
from surveys.questionnaires.definitions.tables import Row
from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem

NO_ANSWER_TYPES = frozenset({"note", "calculate"})


def parse_parameters(text: str) -> dict[str, str]:
    """``start=0 end=10 step=1`` as a mapping; malformed parts are left out."""
    pairs = (part.split("=", 1) for part in text.replace(";", " ").split() if "=" in part)
    return {key.strip().lower(): value.strip() for key, value in pairs}


def _range_problems(row: Row) -> Iterator[Problem]:
    params = parse_parameters(row.get("parameters"))
    try:
        start, end = float(params.get("start", "0")), float(params.get("end", "10"))
        step = float(params.get("step", "1"))
    except ValueError:
        yield Problem(
            "definition.range_parameters",
            "survey",
            row.number,
            "parameters",
            "The range parameters are not numbers.",
            "Write them as start=0 end=10 step=1.",
        )
        return
    if step <= 0 or end <= start:
        yield Problem(
            "definition.range_parameters",
            "survey",
            row.number,
            "parameters",
            "A range needs start < end and a positive step.",
            "Write them as start=0 end=10 step=1.",
        )


def check(context: RuleContext) -> Iterator[Problem]:
    for row, parsed in context.questions():
        yield from _columns(row)
        type_text = row.get("type")
        if not type_text:
            if row.get("name") or any(split_column(c)[0] == "label" for c in row.cells):
                yield Problem(
                    "definition.missing_type",
                    "survey",
                    row.number,
                    "type",
                    "The row has no type.",
                    "Give it a type such as text, integer or select_one LIST.",
                )
            continue
        if parsed.base in UNSUPPORTED_TYPES:
            yield Problem(
                "definition.unsupported_type",
                "survey",
                row.number,
                "type",
                f"The question type {type_text!r} is not supported by accessgap.",
                "Replace it with a supported type (text, integer, decimal, date, "
                "select_one, select_multiple, range, note, calculate, acknowledge) "
                "or remove the row.",
            )
            continue
        if parsed.base not in SUPPORTED_TYPES:
            yield Problem(
                "definition.unknown_type",
                "survey",
                row.number,
                "type",
                f"Unknown type {type_text!r}.",
                "Check the spelling; see docs/questionnaires.md for the types.",
            )
            continue
        if parsed.base in {"select_one", "select_multiple"} and not parsed.list_name:
            yield Problem(
                "definition.missing_list_name",
                "survey",
                row.number,
                "type",
                f"{parsed.base} needs the name of a choice list.",
                f"Write it as '{parsed.base} LIST', e.g. '{parsed.base} yes_no'.",
            )
        if parsed.base == "calculate" and not row.get("calculation"):
            yield Problem(
                "definition.missing_calculation",
                "survey",
                row.number,
                "calculation",
                "A calculate row has no calculation.",
                "Add an expression in the calculation column, or remove the row.",
            )
        if parsed.base in QUESTION_TYPES - NO_ANSWER_TYPES and row.get("calculation"):
            yield Problem(
                "definition.calculation_on_question",
                "survey",
                row.number,
                "calculation",
                "Only calculate rows may have a calculation here.",
                "Move the expression to a calculate row and refer to it.",
                "warning",
            )
        if parsed.base in NO_ANSWER_TYPES and row.get("required").lower() in {"yes", "true"}:
            yield Problem(
                "definition.required_without_answer",
                "survey",
                row.number,
                "required",
                f"A {parsed.base} row cannot be required.",
                "Remove the required column for this row.",
            )
        if parsed.base == "range":
            yield from _range_problems(row)


def _columns(row: Row) -> Iterator[Problem]:
    for column in row.cells:
        base = split_column(column)[0]
        if base in SURVEY_COLUMNS:
            continue
        if column in UNSUPPORTED_LOGIC_COLUMNS or base in UNSUPPORTED_LOGIC_COLUMNS:
            yield Problem(
                "definition.unsupported_column",
                "survey",
                row.number,
                column,
                f"The column {column!r} changes what is asked and is not supported.",
                "Remove it and express the logic with supported columns.",
            )
        elif base in IGNORED_COLUMNS or base.startswith(("$", "_", "kobo--", "body::", "bind::")):
            yield Problem(
                "definition.ignored_column",
                "survey",
                row.number,
                column,
                f"The column {column!r} is not used by accessgap and is ignored.",
                "Nothing to do, unless you relied on it.",
                "warning",
            )
        else:
            yield Problem(
                "definition.unknown_column",
                "survey",
                row.number,
                column,
                f"Unknown column {column!r} is ignored.",
                "Check the spelling of the column header.",
                "warning",
            )
