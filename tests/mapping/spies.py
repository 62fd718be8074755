"""Watching the work a use case does: the SQL it sends, and how often it evaluates numerators."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, event

from mapping import indicators


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent through ``engine`` while the block runs."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])  # conn, cursor, statement, parameters, context, executemany

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def reading(table: str, seen: list[str]) -> list[str]:
    """The statements that read ``table`` (``response`` is not ``response_version``)."""
    return [s for s in seen if re.search(rf"\bFROM {table}\b", s)]


def counting_numerators(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the evaluations of indicator numerators: one entry per call, holding the number
    of responses it evaluated."""
    calls: list[int] = []
    evaluate: Callable[..., pd.Series] = indicators.numerator_values

    def counted(
        responses: pd.DataFrame, spec: indicators.IndicatorSpec, **options: Any
    ) -> pd.Series:
        calls.append(len(responses))
        return evaluate(responses, spec, **options)

    monkeypatch.setattr(indicators, "numerator_values", counted)
    return calls
