"""Row types and columns: supported types, what each type needs, and unsupported features."""

from __future__ import annotations

import re
from collections.abc import Iterator

from surveys.questionnaires.definitions.model import (
    FILE_SELECT_TYPES,
    IGNORED_COLUMNS,
    METADATA_TYPES,
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

NO_ANSWER_TYPES = frozenset({"note", "calculate"}) | METADATA_TYPES
LAST_SAVED = re.compile(r"\$\{\s*last-saved#", re.IGNORECASE)


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
                UNSUPPORTED_TYPES[parsed.base],
            )
            continue
        if parsed.alias is not None:
            yield Problem(
                "definition.type_alias",
                "survey",
                row.number,
                "type",
                f"{type_text!r} is pyxform's older spelling of {parsed.base!r}; read as such.",
                f"Nothing to do; write {parsed.base!r} in new forms.",
                "warning",
            )
        if parsed.base in FILE_SELECT_TYPES:
            yield from _file_select_problems(context, row, parsed.base, parsed.list_name)
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
        yield from _default_problems(row, parsed.base)
        if row.get("repeat_count") and parsed.base != "begin_repeat":
            yield Problem(
                "definition.misplaced_repeat_count",
                "survey",
                row.number,
                "repeat_count",
                "repeat_count is read only on a begin_repeat row.",
                "Move it to the begin_repeat row of the repeat it counts.",
            )


def _default_problems(row: Row, base: str) -> Iterator[Problem]:
    default = row.get("default")
    if not default:
        return
    if LAST_SAVED.search(default):
        yield Problem(
            "definition.last_saved_default",
            "survey",
            row.number,
            "default",
            "A default from the last saved form (${last-saved#...}) needs a device that "
            "keeps earlier submissions.",
            "Use a static default, or leave the column empty.",
        )
    elif "${" in default or ("(" in default and ")" in default and base not in {"text"}):
        yield Problem(
            "definition.dynamic_default",
            "survey",
            row.number,
            "default",
            f"The default {default!r} is an expression; defaults are static values here.",
            "Write a value (e.g. 0 or yes), or compute it in a calculate row.",
        )
    elif base in NO_ANSWER_TYPES or base in STRUCTURE_ONLY:
        yield Problem(
            "definition.ignored_default",
            "survey",
            row.number,
            "default",
            f"A {base} row takes no answer, so its default is not used.",
            "Remove the default.",
            "warning",
        )


STRUCTURE_ONLY = frozenset({"begin_group", "end_group", "begin_repeat", "end_repeat"})


def _file_select_problems(
    context: RuleContext, row: Row, base: str, list_name: str | None
) -> Iterator[Problem]:
    if not list_name:
        yield Problem(
            "definition.missing_list_name",
            "survey",
            row.number,
            "type",
            f"{base} needs the name of a {'CSV file' if 'file' in base else 'choice list'}.",
            f"Write it as '{base} facilities.csv'."
            if "file" in base
            else f"Write it as '{base} LIST'.",
        )
        return
    if "file" not in base:
        return  # the list is checked with the other choice lists
    if not list_name.lower().endswith(".csv"):
        yield Problem(
            "definition.unsupported_attachment",
            "survey",
            row.number,
            "type",
            f"{list_name!r} is not a CSV file; only CSV choice files are read.",
            "Save the list as CSV with name and label columns and attach it.",
        )
    elif list_name not in context.tables.attachments:
        yield Problem(
            "definition.missing_attachment",
            "survey",
            row.number,
            "type",
            f"The file {list_name!r} is not attached.",
            "Attach it with the form (--attach in the CLI, 'attachments' in the API).",
        )


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
