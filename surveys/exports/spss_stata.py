"""SPSS ``.sav`` and Stata ``.dta`` files with variable and value labels (pyreadstat).

Names. Each format gets names it accepts: ASCII letters, digits and ``_``, starting with a
letter, not ending with ``_``, not a reserved word of either program, unique ignoring case (SPSS
names are case-insensitive), and no longer than the format allows (:data:`NAME_LIMITS`): SPSS
64 characters, Stata 32. A Stata variable with value labels is shorter still: pyreadstat names
its label set after it, followed by the set's number in the file (``has_pet0``, ``reimb_ire12``),
and a label-set name too may have at most 32 characters. Other
characters become ``_`` (``techs/pet`` -> ``techs_pet``), a name that starts with a digit or
``_`` gets a ``v`` in front, a long name is cut and, like a clash, numbered (``_2``, ``_3``).
The codebook's ``file_variable`` column gives each file name next to the original.

Values. ``select_one`` answers are numbers with value labels in the chosen language: the choice
names themselves when every name of the list is a whole number (``1``, ``2``, ``99``), otherwise
their position in the list (1, 2, ...); the codebook lists the mapping. ``select_multiple`` flags
are 0/1 labelled "not selected"/"selected"; the raw column stays text. Integers and decimals are
numeric (Stata ``double``), dates are dates, ``submitted_at`` is a timestamp in UTC; missing text
is the empty string (neither format has a missing string). Labels are cut to the formats'
limits (Stata: 80 bytes for a variable label; SPSS: 256 bytes for a variable label and 120 for a
value label). No formula guard here: these are not spreadsheets.

pyreadstat writes from a pandas frame, so each table is built in memory before it is written
(the rest of the export stays streamed); the file is then streamed from a temporary file.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from surveys.exports.variables import Table, Variable, label_in
from surveys.tabular import RowCounter

# The longest variable name and value-label set name per format. pyreadstat names the label set
# of a variable ``<variable><n>``, n counting the labelled variables of the file from 0; SPSS
# files store no label-set names.
NAME_LIMITS = {"sav": 64, "dta": 32}
LABEL_SET_NAME_LIMITS = {"dta": 32}
STATA_RESERVED = frozenset(
    {
        "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
        "_n", "_N", "_pi", "_pred", "_rc", "_skip", "strl", "using", "with",
    }
)  # fmt: skip
SPSS_RESERVED = frozenset(
    {"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"}
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
_STR_TYPE = re.compile(r"^str(\d+|l)$", re.IGNORECASE)
LIMITS = {"sav": {"variable": 256, "value": 120}, "dta": {"variable": 80, "value": 32000}}
FLAG_LABELS = {0.0: "not selected", 1.0: "selected"}
READ_CHUNK = 256 * 1024


def _reserved(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in SPSS_RESERVED
        or lowered in {r.lower() for r in STATA_RESERVED}
        or bool(_STR_TYPE.match(name))
    )


def safe_names(
    names: Sequence[str], *, kind: str = "dta", labelled: Collection[str] = ()
) -> dict[str, str]:
    """Map each name to a valid, unique variable name of the format ``kind`` (``sav`` or
    ``dta``); names in ``labelled`` carry value labels (see the module doc)."""
    set_limit = LABEL_SET_NAME_LIMITS.get(kind)
    result: dict[str, str] = {}
    used: set[str] = set()
    label_sets = 0
    for name in names:
        limit = NAME_LIMITS[kind]
        if name in labelled:
            if set_limit is not None:
                limit = min(limit, set_limit - len(str(label_sets)))
            label_sets += 1
        base = _UNSAFE.sub("_", name).strip("_") or "var"
        base = re.sub(r"_+", "_", base)
        if not base[0].isalpha():
            base = "v" + base
        if _reserved(base):
            base = "v_" + base
        base = base[:limit].rstrip("_")
        candidate, number = base, 2
        while candidate.lower() in used:
            suffix = f"_{number}"
            candidate = base[: limit - len(suffix)].rstrip("_") + suffix
            number += 1
        used.add(candidate.lower())
        result[name] = candidate
    return result


def _cut(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def select_one_codes(variable: Variable) -> dict[str, int]:
    """The number that stands for each choice (its name when all names are whole numbers)."""
    names = [c.name for c in variable.choices]
    if names and all(re.fullmatch(r"-?\d{1,9}", n) for n in names):
        return {n: int(n) for n in names}
    return {n: i for i, n in enumerate(names, start=1)}


class _Column:
    def __init__(self, variable: Variable, file_name: str) -> None:
        self.variable = variable
        self.name = file_name
        self.values: list[Any] = []
        self.codes = select_one_codes(variable) if variable.kind == "select_one" else {}


def _numeric(values: list[Any]) -> bool:
    present = [v for v in values if v is not None and v != ""]
    return bool(present) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in present
    )


_TYPED_KINDS = frozenset({"key", "start", "end", "today"})


def _datetime(value: Any) -> dt.datetime | None:
    """A timestamp (``...Z``) or a typed date and time (``2026-11-29T12:00``), naive in UTC as
    SPSS and Stata keep them."""
    if not isinstance(value, str):
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _frame_column(column: _Column) -> tuple[list[Any], str]:
    """The values as written, and ``number``, ``date``, ``datetime`` or ``text``."""
    variable, values = column.variable, column.values
    nan = float("nan")
    # Keys and recorded metadata (start, end, today) by their data type; a question by its kind.
    kind = variable.data_type if variable.kind in _TYPED_KINDS else variable.kind
    if kind in {"integer", "decimal", "range", "choice"} or (
        kind == "calculate" and _numeric(values)
    ):
        return [nan if v is None or v == "" else float(v) for v in values], "number"
    if kind == "select_one":
        return [nan if v is None else float(column.codes.get(v, nan)) for v in values], "number"
    if kind == "date":
        return [dt.date.fromisoformat(v) if isinstance(v, str) else None for v in values], "date"
    if kind == "datetime":
        return [_datetime(v) for v in values], "datetime"
    if kind == "select_multiple":
        return [
            "" if v is None else " ".join(v) if isinstance(v, list) else str(v) for v in values
        ], "text"
    return ["" if v is None else str(v) for v in values], "text"


def has_value_labels(variable: Variable) -> bool:
    """Whether the variable's file column carries value labels (flags and coded choices)."""
    return variable.kind == "choice" or (
        variable.kind == "select_one" and bool(select_one_codes(variable))
    )


def file_names(table: Table, kind: str) -> dict[str, str]:
    """The file's name of every column of the table, for the format ``kind``."""
    return safe_names(
        [c.name for c in table.columns],
        kind=kind,
        labelled={c.name for c in table.columns if has_value_labels(c)},
    )


def write_table(
    table: Table,
    rows: Iterable[Sequence[Any]],
    path: Path,
    *,
    kind: str,
    language: str | None,
    counter: RowCounter | None = None,
) -> None:
    """Write one table as ``.sav`` or ``.dta`` (``kind``) with its labels."""
    import pandas as pd  # imported here: only SPSS/Stata exports pay for them
    import pyreadstat

    names = file_names(table, kind)
    columns = [_Column(v, names[v.name]) for v in table.columns]
    count = 0
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.values.append(value)
        count += 1
    if counter is not None:
        counter.rows = count
    lang = language or table.default_language
    limits = LIMITS[kind]
    data: dict[str, Any] = {}
    column_labels: dict[str, str | None] = {}
    value_labels: dict[str, dict[float, str]] = {}
    for column in columns:
        values, _ = _frame_column(column)
        data[column.name] = pd.Series(values, dtype="object" if values else "float64")
        label = label_in(column.variable.labels, lang, table.default_language)
        if label:
            column_labels[column.name] = _cut(label, limits["variable"])
        variable = column.variable
        if variable.kind == "choice":
            value_labels[column.name] = dict(FLAG_LABELS)
        elif variable.kind == "select_one" and column.codes:
            value_labels[column.name] = {
                float(column.codes[c.name]): _cut(
                    label_in(c.label, lang, table.default_language) or c.name, limits["value"]
                )
                for c in variable.choices
            }
    frame = pd.DataFrame(data)
    for name in frame.columns:
        if frame[name].map(lambda v: isinstance(v, float)).all():
            frame[name] = frame[name].astype("float64")
    writer = pyreadstat.write_sav if kind == "sav" else pyreadstat.write_dta
    writer(
        frame,
        str(path),
        file_label=_cut(table.name, 80),
        column_labels=column_labels,
        variable_value_labels=value_labels,
    )


def table_chunks(
    table: Table,
    rows: Iterable[Sequence[Any]],
    *,
    kind: str,
    language: str | None,
    counter: RowCounter | None = None,
) -> Iterator[bytes]:
    """The table's file, written to a temporary file and streamed from it."""
    with tempfile.TemporaryDirectory(prefix="accessgap-export-") as folder:
        path = Path(folder) / f"table.{kind}"
        write_table(table, rows, path, kind=kind, language=language, counter=counter)
        with path.open("rb") as written:
            while chunk := written.read(READ_CHUNK):
                yield chunk
