"""Reading a population table for import, and refusing it whole when any row is wrong.

The file is a CSV (UTF-8) with the columns ``area_code``, ``year``, ``value``, ``source`` and,
optionally, ``level`` (``country``, ``nuts0`` … ``nuts3``) and ``nuts_version``. Every code goes
through the one crosswalk (:mod:`surveys.registry.codes`): ISO alpha-2 and alpha-3, Eurostat's
``EL`` and ``UK`` and NUTS codes are all understood. Every row is checked and every problem
reported with its row number (the header is row 1), so one pass over the file shows all that
needs fixing: unknown codes, years and values that are not whole numbers, values that are not
finite, negative or implausibly large, and the same area, year and source twice.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from surveys.errors import RowProblem
from surveys.registry.codes import UnknownCode, area

REQUIRED = ("area_code", "year", "value", "source")
OPTIONAL = ("level", "nuts_version")
MAX_VALUE = 2_000_000_000
"""Larger than any country's population, and within the database's integer range."""
YEARS = (1950, 2100)
MAX_ROWS = 200_000


@dataclass(frozen=True)
class KnownAreas:
    """What the registry knows: its countries, every NUTS code with the versions that have it,
    and each level's active NUTS version."""

    countries: frozenset[str]
    nuts: Mapping[str, frozenset[str]]
    active: Mapping[int, str]


@dataclass(frozen=True)
class Figure:
    """One checked row: an area's figure of one year from one source."""

    row: int
    area_code: str
    area_level: str
    year: int
    value: int
    source: str
    nuts_version: str | None


@dataclass
class CheckedFile:
    """The figures of a file and the problems that block it (all rows or none)."""

    figures: list[Figure] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def open_table(
    path: Path, required: Sequence[str], expected: str
) -> tuple[list[str], Iterator[list[str]]] | RowProblem:
    """A UTF-8 CSV's lower-cased header and its remaining rows, or the problem that stops it
    (not UTF-8; a required column missing, the ``expected`` header named in the message)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return RowProblem(
            0, "", f"the file is not UTF-8 (byte {error.start}); save it as CSV UTF-8"
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [column for column in required if column not in header]
    if missing:
        return RowProblem(
            1,
            ", ".join(missing),
            f"missing column(s) {', '.join(missing)}; the header must be {expected}",
        )
    return header, reader


def check_population_file(path: Path, known: KnownAreas) -> CheckedFile:
    """Every row of a population table checked against what the registry knows.

    Returns
    -------
    CheckedFile
        The figures, and the problems by row and column; import the figures only when there is
        no problem.
    """
    checked = CheckedFile()
    opened = open_table(
        path, REQUIRED, "area_code,year,value,source (and optionally level, nuts_version)"
    )
    if isinstance(opened, RowProblem):
        checked.problems.append(opened)
        return checked
    header, reader = opened
    seen: dict[tuple[str, int, str], int] = {}
    for number, values in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            checked.problems.append(RowProblem(number, "", f"more than {MAX_ROWS} rows; split it"))
            break
        if not any(v.strip() for v in values):
            continue
        raw = {key: (values[i].strip() if i < len(values) else "") for i, key in enumerate(header)}
        figure = _check_row(number, raw, known, checked.problems)
        if figure is None:
            continue
        key = (figure.area_code, figure.year, figure.source)
        if key in seen:
            checked.problems.append(
                RowProblem(
                    number,
                    "area_code",
                    f"{figure.area_code} {figure.year} from this source is also in row "
                    f"{seen[key]}; keep one",
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
    number: int, raw: dict[str, str], known: KnownAreas, problems: list[RowProblem]
) -> Figure | None:
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
            problem(
                "area_code",
                f"{named.code} is not a NUTS code of any version the registry knows "
                "(import its boundaries first, or check the code)"
                if not raw.get("nuts_version")
                else f"{named.code} is not a NUTS {raw['nuts_version']} code the registry knows",
            )
    year = _whole(raw["year"], "year", problem)
    if year is not None and not YEARS[0] <= year <= YEARS[1]:
        problem("year", f"the year must be from {YEARS[0]} to {YEARS[1]}")
    value = _whole(raw["value"], "value", problem)
    if value is not None and value < 0:
        problem("value", "a population cannot be negative")
    elif value is not None and value > MAX_VALUE:
        problem("value", f"larger than any population ({MAX_VALUE:,}); check the figure")
    source = raw["source"]
    if not source:
        problem("source", "the source is missing; name the publisher and dataset")
    elif len(source) > 200:
        problem("source", "the source is longer than 200 characters; shorten it")
    if len(problems) > before or named is None or year is None or value is None:
        return None
    return Figure(number, named.code, named.level_name, year, value, source, version)


def _whole(text: str, column: str, problem: Callable[[str, str], None]) -> int | None:
    """A whole number, or None after reporting why the text is not one."""
    if not text:
        problem(column, "missing")
        return None
    try:
        number = float(text)
    except ValueError:
        problem(column, "not a number; write digits only, like 1234567")
        return None
    if not math.isfinite(number):
        problem(column, "not a finite number")
        return None
    if not number.is_integer():
        problem(column, "not a whole number; figures are counts")
        return None
    if abs(number) > 1e15:
        problem(column, f"implausibly large ({text}); check the figure")
        return None
    return int(number)


def nuts_version_of(code: str, level: int, given: str, known: KnownAreas) -> str | None:
    """The NUTS version a code belongs to: the one given (if the code is of it), else the
    level's active version when it has the code, else the newest version that has it."""
    versions = known.nuts.get(code, frozenset())
    if given:
        return given if given in versions else None
    if not versions:
        return None
    active = known.active.get(level)
    return active if active in versions else max(versions)
