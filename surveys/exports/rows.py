"""Records in, rows out: the wide rows of each table and the long (tidy) rows.

Cells keep their types: integers and decimals stay numbers (written unquoted and never prefixed
by the formula guard); text stays text. ``values="labels"`` writes choice labels in the chosen
language instead of codes (falling back to the form's default language, then to the code).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from surveys.exports.records import ResponseRecord
from surveys.exports.variables import RECORDED_TIMES, Table, Variable, label_in
from surveys.tabular import neutralise_formula

Cell = Callable[[Any], Any]
LONG_HEADER = [
    "campaign",
    "centre",
    "country",
    "region",
    "questionnaire",
    "version",
    "response_key",
    "repeat",
    "row_index",
    "question",
    "value",
    "label",
]


def timestamp(value: dt.datetime | None) -> str | None:
    """A UTC timestamp as ``2026-11-29T12:00:00Z`` (what Table Schema's datetime reads)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def recorded_time(value: Any) -> Any:
    """A recorded ``start``/``end`` (``2026-11-29T12:00:00+00:00``) as a UTC timestamp like
    ``submitted_at``; anything else (a value from elsewhere) as stored."""
    if not isinstance(value, str):
        return value
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    return timestamp(parsed) if parsed.tzinfo is not None else value


def _selection(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return value.split()
    return []


def cell_function(
    variable: Variable, *, labels: bool, language: str, default_language: str
) -> Cell | None:
    """How a stored answer becomes a cell; None when it is written as stored."""
    kind = variable.kind
    if kind == "choice":
        chosen = variable.choice

        def flag(value: Any) -> int | None:
            if not value:
                return None
            if value.__class__ is list:
                return 1 if chosen in value else 0
            return 1 if chosen in _selection(value) else 0

        return flag
    if kind in RECORDED_TIMES:
        return recorded_time
    names = {
        c.name: label_in(c.label, language, default_language) or c.name for c in variable.choices
    }
    if kind == "select_multiple":
        if labels:
            return lambda v: (
                None if v is None else "; ".join(names.get(c, c) for c in _selection(v))
            )
        return lambda v: None if v is None else " ".join(_selection(v))
    if kind == "select_one" and labels:
        return lambda v: None if v is None else names.get(v, v)
    return None


def iter_repeat(
    answers: dict[str, Any], path: tuple[str, ...]
) -> Iterator[tuple[int | None, int, dict[str, Any]]]:
    """``(parent_row_index, row_index, row)`` of a (nested) repeat, numbered per response.

    Row indexes run 1, 2, ... through the whole response, so ``(response_key, row_index)`` is
    the key of a repeat table at any depth, and a nested row's ``parent_row_index`` is the
    ``row_index`` its parent row has in the parent table (both are numbered in the same walk).
    """
    counters = [0] * len(path)

    def walk(level: dict[str, Any], depth: int, parent: int | None) -> Iterator[Any]:
        rows = level.get(path[depth])
        if not isinstance(rows, list):
            return
        for row in rows:
            if not isinstance(row, dict):
                continue
            counters[depth] += 1
            if depth == len(path) - 1:
                yield parent, counters[depth], row
            else:
                yield from walk(row, depth + 1, counters[depth])

    yield from walk(answers, 0, None)


class WideRows:
    """The rows of one table: one per response (main table) or one per repeat row."""

    def __init__(self, table: Table, *, labels: bool, language: str | None) -> None:
        self.table = table
        lang = language or table.default_language
        cells = [
            cell_function(v, labels=labels, language=lang, default_language=table.default_language)
            for v in table.variables
        ]
        self.questions = [v.question or v.name for v in table.variables]
        self.converters = [(i, f) for i, f in enumerate(cells) if f is not None]
        self.identified = any(k.name == "centre_name" for k in table.keys)

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.table.columns]

    def _values(self, answers: dict[str, Any]) -> list[Any]:
        values = list(map(answers.get, self.questions))
        for index, convert in self.converters:
            values[index] = convert(values[index])
        return values

    def rows(self, record: ResponseRecord) -> Iterator[list[Any]]:
        if self.table.is_main:
            keys: list[Any] = [record.response_key, record.campaign, record.centre]
            if self.identified:
                keys.append(record.centre_name)
            keys += [
                record.country,
                record.region,
                record.questionnaire,
                record.version,
                record.status,
                timestamp(record.submitted_at),
            ]
            yield keys + self._values(record.answers)
            return
        nested = len(self.table.repeat_path) > 1
        for parent, index, row in iter_repeat(record.answers, self.table.repeat_path):
            keys = [record.response_key, index, parent] if nested else [record.response_key, index]
            yield keys + self._values(row)


class LongRows:
    """One row per answer (one per chosen choice of a ``select_multiple``), every table.

    The keys repeated on every row of a response are formula-guarded here, once per response;
    the writer checks only the :data:`UNGUARDED` columns (value and label).
    """

    header = LONG_HEADER
    UNGUARDED = (10, 11)

    def __init__(self, tables: list[Table], *, language: str | None) -> None:
        self.by_questionnaire: dict[int, list[Table]] = {}
        for table in tables:
            self.by_questionnaire.setdefault(table.questionnaire_id, []).append(table)
        self.language = language

    def rows(self, record: ResponseRecord) -> Iterator[list[Any]]:
        head = [
            neutralise_formula(v) if isinstance(v, str) else v
            for v in (
                record.campaign,
                record.centre,
                record.country,
                record.region,
                record.questionnaire,
                record.version,
                record.response_key,
            )
        ]
        for table in self.by_questionnaire.get(record.questionnaire_id, []):
            lang = self.language or table.default_language
            default = table.default_language
            variables = [v for v in table.variables if v.kind != "choice"]
            if table.is_main:
                levels: Iterator[tuple[int | None, dict[str, Any]]] = iter([(None, record.answers)])
                repeat = None
            else:
                levels = ((i, row) for _, i, row in iter_repeat(record.answers, table.repeat_path))
                repeat = table.repeat_path[-1]
            for index, answers in levels:
                for variable in variables:
                    value = answers.get(variable.question or variable.name)
                    if value is None or value == "" or value == []:
                        continue
                    where = [*head, repeat, index, neutralise_formula(variable.name)]
                    if variable.kind == "select_multiple":
                        for code in _selection(value):
                            yield [*where, code, variable.choice_label(code, lang, default)]
                    elif variable.kind == "select_one":
                        yield [*where, value, variable.choice_label(str(value), lang, default)]
                    else:
                        yield [*where, value, None]
