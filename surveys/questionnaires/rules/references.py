"""References: every ${name} in an expression or a label names a question of the form."""

from __future__ import annotations

import re
from collections.abc import Iterator

from surveys.questionnaires.definitions.model import (
    GENERATED_OTHER_SUFFIX,
    MATRIX_SEPARATOR,
    split_column,
)
from surveys.questionnaires.expressions import references
from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem

LABEL_REFERENCE = re.compile(r"\$\{([^}]*)\}")


def known_names(context: RuleContext) -> set[str]:
    names = set(context.names)
    for row, parsed in context.questions():
        if parsed.or_other and row.get("name"):
            names.add(row.get("name") + GENERATED_OTHER_SUFFIX)
    # Matrix cells answer as CHILD__COLUMN: accept any reference of that shape to a known child.
    return names


def _is_known(name: str, names: set[str]) -> bool:
    if name in names:
        return True
    head, _, tail = name.rpartition(MATRIX_SEPARATOR)
    return bool(head) and bool(tail) and head in names


def check(context: RuleContext) -> Iterator[Problem]:
    names = known_names(context)
    for parsed in context.expressions:
        if parsed.node is None:
            continue
        for name in sorted(references(parsed.node)):
            if not _is_known(name, names):
                yield Problem(
                    "definition.unknown_reference",
                    parsed.sheet,
                    parsed.row.number,
                    parsed.column,
                    f"${{{name}}} does not name a question of this form.",
                    "Check the spelling, or add the question it refers to.",
                )
    for row in context.tables.survey:
        for column, value in row.cells.items():
            if split_column(column)[0] not in {"label", "hint"}:
                continue
            for name in LABEL_REFERENCE.findall(value):
                if not _is_known(name, names):
                    yield Problem(
                        "definition.unknown_reference",
                        "survey",
                        row.number,
                        column,
                        f"${{{name}}} in the text does not name a question.",
                        "Check the spelling, or remove the reference.",
                    )
