"""Definition validation: small rules, one module each, run together by :func:`validate`.

Every problem has a stable code (``definition.duplicate_name``...), the sheet, row and column it
is about, and a sentence on how to fix it, the way pyxform reports XLSForm errors.
"""

from __future__ import annotations

from surveys.questionnaires.definitions.tables import FormTables
from surveys.questionnaires.rules import (
    choices,
    cycles,
    expressions,
    indicators,
    languages,
    names,
    references,
    settings,
    structure,
    types,
)
from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem, ValidationResult

RULES = (
    settings.check,
    types.check,
    names.check,
    structure.check,
    choices.check,
    expressions.check,
    references.check,
    cycles.check,
    languages.check,
    indicators.check,
)


def validate(tables: FormTables) -> ValidationResult:
    """Run every rule over the tables; the result holds errors and warnings, in sheet order."""
    context = RuleContext.build(tables)
    result = ValidationResult()
    for rule in RULES:
        result.problems.extend(rule(context))
    result.problems.sort(key=Problem.sort_key)
    return result


__all__ = ["Problem", "ValidationResult", "validate"]
