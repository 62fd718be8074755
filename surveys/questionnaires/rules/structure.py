"""Groups and repeats open and close in order; matrices hold only numeric questions."""

from __future__ import annotations

from collections.abc import Iterator

from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem

MATRIX_CELL_TYPES = frozenset({"integer", "decimal", "calculate", "note"})


def check(context: RuleContext) -> Iterator[Problem]:
    stack: list[tuple[str, int, str, bool]] = []  # kind, row, name, is_matrix
    for row, parsed in context.questions():
        if parsed.base in {"begin_group", "begin_repeat"}:
            kind = parsed.base.removeprefix("begin_")
            if stack and stack[-1][3]:
                yield Problem(
                    "definition.matrix_nesting",
                    "survey",
                    row.number,
                    "type",
                    "A matrix cannot contain groups or repeats.",
                    "Close the matrix group first.",
                )
            matrix = row.get("appearance").strip().lower() == "matrix"
            if matrix and kind == "repeat":
                yield Problem(
                    "definition.matrix_repeat",
                    "survey",
                    row.number,
                    "appearance",
                    "A repeat cannot be shown as a matrix.",
                    "Use appearance matrix on a group.",
                )
            stack.append((kind, row.number, row.get("name"), matrix))
        elif parsed.base in {"end_group", "end_repeat"}:
            kind = parsed.base.removeprefix("end_")
            if not stack:
                yield Problem(
                    "definition.unbalanced_group",
                    "survey",
                    row.number,
                    "type",
                    f"end_{kind} without a matching begin_{kind}.",
                    f"Remove this row or add begin_{kind} above it.",
                )
            elif stack[-1][0] != kind:
                opened = stack[-1]
                yield Problem(
                    "definition.unbalanced_group",
                    "survey",
                    row.number,
                    "type",
                    f"end_{kind} closes the {opened[0]} {opened[2]!r} opened on row {opened[1]}.",
                    f"Close the {opened[0]} with end_{opened[0]} first.",
                )
                stack.pop()
            else:
                stack.pop()
        elif stack and stack[-1][3] and parsed.base not in MATRIX_CELL_TYPES:
            yield Problem(
                "definition.matrix_cell_type",
                "survey",
                row.number,
                "type",
                f"A matrix holds numeric questions; {parsed.base!r} cannot be a cell.",
                "Use integer or decimal questions inside a matrix group.",
            )
    for kind, number, name, _ in reversed(stack):
        yield Problem(
            "definition.unbalanced_group",
            "survey",
            number,
            "type",
            f"The {kind} {name!r} is never closed.",
            f"Add an end_{kind} row after its last question.",
        )
