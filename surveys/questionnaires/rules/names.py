"""Names: every question and group has one, it is unique, well formed and not reserved."""

from __future__ import annotations

from collections.abc import Iterator

from surveys.questionnaires.definitions.model import NAME_PATTERN, RESERVED_NAMES
from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem

UNNAMED = frozenset({"end_group", "end_repeat", ""})


def check(context: RuleContext) -> Iterator[Problem]:
    first_row: dict[str, int] = {}
    for row, parsed in context.questions():
        name = row.get("name")
        if parsed.base in UNNAMED:
            continue
        if not name:
            yield Problem(
                "definition.missing_name",
                "survey",
                row.number,
                "name",
                f"The {parsed.base} row has no name.",
                "Give it a unique name of letters, digits and underscores.",
            )
            continue
        if not NAME_PATTERN.match(name):
            yield Problem(
                "definition.invalid_name",
                "survey",
                row.number,
                "name",
                f"{name!r} is not a valid name.",
                "Start with a letter or underscore; use letters, digits, _ . - only.",
            )
        if name.lower() in RESERVED_NAMES:
            yield Problem(
                "definition.reserved_name",
                "survey",
                row.number,
                "name",
                f"{name!r} is a reserved name.",
                "Choose another name.",
            )
        if name in first_row:
            yield Problem(
                "definition.duplicate_name",
                "survey",
                row.number,
                "name",
                f"The name {name!r} is already used on row {first_row[name]}.",
                "Give every question, group and repeat a unique name.",
            )
        else:
            first_row[name] = row.number
        if parsed.or_other and f"{name}_other" in context.names:
            yield Problem(
                "definition.duplicate_name",
                "survey",
                row.number,
                "name",
                f"or_other generates {name}_other, which another row already uses.",
                f"Rename the row called {name}_other.",
            )
