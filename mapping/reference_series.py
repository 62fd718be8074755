"""Reading a series of official statistics for import, and refusing it whole when any row is wrong.

The file is a CSV (UTF-8) with the columns ``area_code``, ``year``, ``indicator``, ``value``,
``source`` and, optionally, ``flag``, ``level`` and ``nuts_version``. ``indicator`` names the
survey indicator the figure is compared with (``rt_mv_units_per_million``); ``value`` is in the
terms that indicator counts: for an indicator that adds up counts (``sum``, ``count_yes``) it is
the area's count (megavoltage units in the country), for the others the indicator's own unit.
Codes go through the one crosswalk (:mod:`surveys.registry.codes`), as in population tables
(:mod:`mapping.population_file`), and every problem is reported with its row number (the header
is row 1), so one pass shows all that needs fixing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from mapping.population_file import YEARS, KnownAreas, nuts_version_of, open_table
from surveys.errors import RowProblem
from surveys.registry.codes import UnknownCode, area

REQUIRED = ("area_code", "year", "indicator", "value", "source")
OPTIONAL = ("flag", "level", "nuts_version")
MAX_ROWS = 200_000
MAX_VALUE = 1e12


@dataclass(frozen=True)
class OfficialFigure:
    """One checked row: an area's official value of one indicator in one year."""

    row: int
    area_code: str
    area_level: str
    year: int
    indicator: str
    value: float
    source: str
    flag: str
    nuts_version: str | None


@dataclass
class CheckedSeries:
    """The figures of a file and the problems that block it (all rows or none)."""

    figures: list[OfficialFigure] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def check_reference_file(
    path: Path, known: KnownAreas, indicators: Collection[str]
) -> CheckedSeries:
    """Every row of an official series checked against the registry and the declared indicators.

    Returns
    -------
    CheckedSeries
        The figures, and the problems by row and column; import the figures only when there is
        no problem.
    """
    checked = CheckedSeries()
    opened = open_table(
        path,
        REQUIRED,
        "area_code,year,indicator,value,source (and optionally flag, level, nuts_version)",
    )
    if isinstance(opened, RowProblem):
        checked.problems.append(opened)
        return checked
    header, reader = opened
    seen: dict[tuple[str, int, str, str], int] = {}
    for number, values in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            checked.problems.append(RowProblem(number, "", f"more than {MAX_ROWS} rows; split it"))
            break
        if not any(v.strip() for v in values):
            continue
        raw = {key: (values[i].strip() if i < len(values) else "") for i, key in enumerate(header)}
        figure = _check_row(number, raw, known, indicators, checked.problems)
        if figure is None:
            continue
        key = (figure.area_code, figure.year, figure.indicator, figure.source)
        if key in seen:
            checked.problems.append(
                RowProblem(
                    number,
                    "area_code",
                    f"{figure.area_code} {figure.year} {figure.indicator} from this source is "
                    f"also in row {seen[key]}; keep one",
                    value=raw.get("area_code"),
                )
            )
            continue
        seen[key] = number
        checked.figures.append(figure)
    if not checked.figures and not checked.problems:
        checked.problems.append(RowProblem(2, "", "the file holds no figure"))
    return checked


def _check_row(
    number: int,
    raw: dict[str, str],
    known: KnownAreas,
    indicators: Collection[str],
    problems: list[RowProblem],
) -> OfficialFigure | None:
    before = len(problems)

    def problem(column: str, message: str) -> None:
        problems.append(RowProblem(number, column, message, value=raw.get(column) or None))

    named = None
    try:
        named = area(raw["area_code"], level=raw.get("level") or None)
    except UnknownCode as error:
        problem("area_code", error.detail)
    version: str | None = None
    if named is not None and named.level == 0 and named.code not in known.countries:
        problem("area_code", f"{named.code} is not a country of the registry")
    elif named is not None and named.level > 0:
        version = nuts_version_of(named.code, named.level, raw.get("nuts_version", ""), known)
        if version is None:
            problem("area_code", f"{named.code} is not a NUTS code the registry knows")
    year = _year(raw["year"], problem)
    indicator = raw["indicator"]
    if not indicator:
        problem("indicator", "missing; name the survey indicator the figure compares with")
    elif indicator not in indicators:
        listed = ", ".join(sorted(indicators)[:8]) or "none: load the questionnaires first"
        problem(
            "indicator",
            f"no questionnaire declares the indicator {indicator!r}; use an indicator id "
            f"(e.g. {listed})",
        )
    value = _value(raw["value"], problem)
    source = raw["source"]
    if not source:
        problem("source", "the source is missing; name the publisher and dataset")
    elif len(source) > 200:
        problem("source", "the source is longer than 200 characters; shorten it")
    flag = raw.get("flag", "")
    if len(flag) > 100:
        problem("flag", "the flag is longer than 100 characters; shorten it")
    if len(problems) > before or named is None or year is None or value is None:
        return None
    return OfficialFigure(
        number, named.code, named.level_name, year, indicator, value, source, flag, version
    )


def _year(text: str, problem: Callable[[str, str], None]) -> int | None:
    if not text:
        problem("year", "missing")
        return None
    if not text.isdigit():
        problem("year", "not a year; write four digits, like 2024")
        return None
    year = int(text)
    if not YEARS[0] <= year <= YEARS[1]:
        problem("year", f"the year must be from {YEARS[0]} to {YEARS[1]}")
        return None
    return year


def _value(text: str, problem: Callable[[str, str], None]) -> float | None:
    if not text:
        problem("value", "missing; leave the row out when there is no figure")
        return None
    try:
        number = float(text)
    except ValueError:
        problem("value", "not a number; write digits with a decimal point, like 12.5")
        return None
    if not math.isfinite(number):
        problem("value", "not a finite number")
        return None
    if number < 0:
        problem("value", "negative; official counts and rates are zero or more")
        return None
    if number > MAX_VALUE:
        problem("value", f"implausibly large ({text}); check the figure")
        return None
    return number
