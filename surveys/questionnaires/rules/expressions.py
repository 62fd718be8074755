"""Expressions parse: a syntax error names the question, the column and the position."""

from __future__ import annotations

import re
from collections.abc import Iterator

from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem

UNKNOWN_FUNCTION = re.compile(r"unknown function '(?P<name>[^']+)'")


def check(context: RuleContext) -> Iterator[Problem]:
    for parsed in context.expressions:
        if parsed.error is None:
            continue
        match = UNKNOWN_FUNCTION.search(parsed.error.message)
        if match:
            yield Problem(
                "definition.unsupported_function",
                parsed.sheet,
                parsed.row.number,
                parsed.column,
                f"The function {match.group('name')}() is not supported "
                f"(position {parsed.error.position}).",
                "See docs/questionnaires.md for the supported functions.",
            )
            continue
        yield Problem(
            "definition.expression_syntax",
            parsed.sheet,
            parsed.row.number,
            parsed.column,
            f"Cannot read the expression: {parsed.error.message} at position "
            f"{parsed.error.position} of {parsed.text!r}.",
            "Fix the expression; names are written ${name}, text in 'quotes'.",
        )
