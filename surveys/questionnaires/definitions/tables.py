"""An XLSForm as three (or four) tables of rows, whatever file it came from.

A :class:`FormTables` keeps every cell as text, and every row keeps the number it had in its sheet
(the header is row 1), so validation can say "survey sheet, row 14, column relevant". It is read
from an XLSX, XLSM or XLS workbook (``workbook``), from the YAML files of the built-in catalogue,
or from small markdown tables (as tests write them). ``indicators`` is accessgap's extension: the
indicators declared beside the questions that feed them. ``external_choices`` (the sheet of
``select_one_external``) and ``attachments`` (CSV files named by ``select_one_from_file``) are
read as pyxform reads them and merged into the choice lists by the model.

Headers are read as pyxform reads them: ``label::French (fr)`` and the older single-colon
``label:French`` are the same column, and pyxform's header aliases (``caption``, ``relevance``,
``jr:constraintMsg``, ``count``...) become the column they stand for.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from surveys.questionnaires.definitions.workbook import (
    SHEETS,
    Limits,
    cell_text,
    read_xls_grids,
    read_xlsx_grids,
)
from surveys.questionnaires.definitions.workbook import FormFileError as FormFileError

# Columns whose translations may be written ``column:Language`` (one colon), as older forms do.
SINGLE_COLON_COLUMNS = frozenset(
    {
        "label",
        "hint",
        "guidance_hint",
        "constraint_message",
        "required_message",
        "image",
        "big-image",
        "audio",
        "video",
        "title",
        "form_title",
        "unit",
    }
)
# pyxform's header aliases (its ``aliases.survey_header`` and ``list_header``).
HEADER_ALIASES = {
    "caption": "label",
    "relevance": "relevant",
    "readonly": "read_only",
    "calculate": "calculation",
    "constraining_message": "constraint_message",
    "jr:constraintmsg": "constraint_message",
    "requiredmsg": "required_message",
    "jr:requiredmsg": "required_message",
    "count": "repeat_count",
    "jr:count": "repeat_count",
    "list name": "list_name",
    "set_form_id": "form_id",
    "set_form_title": "form_title",
}
MAX_ATTACHMENT_ROWS = 50_000


@dataclass
class Row:
    """One row of a sheet: its number in the sheet and its non-empty cells, keyed by column."""

    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass
class FormTables:
    survey: list[Row] = field(default_factory=list)
    choices: list[Row] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    indicators: list[Row] = field(default_factory=list)
    source: str = ""
    external_choices: list[Row] = field(default_factory=list)
    attachments: dict[str, list[Row]] = field(default_factory=dict)


def _text(value: object) -> str:
    if isinstance(value, dict | list):
        return yaml.safe_dump(value, default_flow_style=True, sort_keys=True).strip()
    return cell_text(value)


def _clean_header(header: object) -> str:
    text = _text(header)
    if "::" in text:
        column, language = text.split("::", 1)
        column = column.strip().lower()
        return f"{HEADER_ALIASES.get(column, column)}::{language.strip()}"
    column, colon, language = text.partition(":")
    if colon and column.strip().lower() in SINGLE_COLON_COLUMNS and language.strip():
        return f"{column.strip().lower()}::{language.strip()}"
    lowered = " ".join(text.lower().split())
    return HEADER_ALIASES.get(lowered, lowered)


def _rows(records: list[dict[str, Any]], *, first_row: int = 2) -> list[Row]:
    rows = []
    for offset, record in enumerate(records):
        cells = {_clean_header(k): _text(v) for k, v in record.items() if _text(v) != ""}
        if cells:
            rows.append(Row(first_row + offset, cells))
    return rows


def from_mapping(data: object, *, source: str = "") -> FormTables:
    """Tables from the YAML shape of the catalogue (``settings``, ``survey``, ``choices``...)."""
    if not isinstance(data, dict):
        raise FormFileError(f"{source or 'the form'}: expected a mapping with a 'survey' list")
    tables = FormTables(source=source)
    for sheet in ("survey", "choices", "indicators", "external_choices"):
        records = data.get(sheet) or []
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise FormFileError(f"{source}: '{sheet}' must be a list of rows (mappings)")
        setattr(tables, sheet, _rows(records))
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise FormFileError(f"{source}: 'settings' must be a mapping")
    tables.settings = {_clean_header(k): _text(v) for k, v in settings.items() if _text(v)}
    return tables


def read_yaml(text: str, *, source: str = "") -> FormTables:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FormFileError(f"{source}: not valid YAML ({exc})") from exc
    return from_mapping(data, source=source)


def read_markdown(text: str, *, source: str = "") -> FormTables:
    """Tables written as pyxform's tests write them: ``| survey | | |`` blocks of pipe rows."""
    sheets: dict[str, list[list[str]]] = {}
    current: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("|"):
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        if cells and cells[0] in SHEETS:
            current = cells[0]
            sheets[current] = []
            continue
        if current is None or set("".join(cells)) <= set("-: "):
            continue
        sheets[current].append(cells[1:] if cells and cells[0] == "" else cells)
    return _from_grids(sheets, source)


def read_xlsx(data: bytes, *, source: str = "", limits: Limits | None = None) -> FormTables:
    """An .xlsx or .xlsm workbook (see ``workbook`` for the bounds of the read)."""
    return _workbook(read_xlsx_grids(data, source=source, limits=limits), source)


def read_xls(data: bytes, *, source: str = "", limits: Limits | None = None) -> FormTables:
    """A legacy Excel 97-2003 (.xls) workbook."""
    return _workbook(read_xls_grids(data, source=source, limits=limits), source)


def _workbook(sheets: dict[str, list[list[str]]], source: str) -> FormTables:
    if "survey" not in sheets:
        raise FormFileError(
            f"{source}: the workbook has no 'survey' sheet; an XLSForm needs one",
            code="form_file.no_survey_sheet",
        )
    return _from_grids(sheets, source)


def read_attachment(data: bytes, *, name: str) -> list[Row]:
    """The rows of a CSV file attached to a form (``select_one_from_file``, ``itemsets.csv``)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormFileError(
            f"{name}: not UTF-8 text; save the CSV as UTF-8", code="form_file.attachment"
        ) from exc
    reader = csv.reader(io.StringIO(text))
    grid: list[list[str]] = []
    for values in reader:
        if len(grid) > MAX_ATTACHMENT_ROWS:
            raise FormFileError(
                f"{name}: more than {MAX_ATTACHMENT_ROWS} rows; split the list",
                code="form_file.too_many_rows",
            )
        grid.append([v.strip() for v in values])
    if not grid:
        raise FormFileError(
            f"{name}: the CSV file is empty; it needs a header with name and label",
            code="form_file.attachment",
        )
    header = [_clean_header(h) for h in grid[0]]
    rows = []
    for number, values in enumerate(grid[1:], start=2):
        cells = {k: v for k, v in zip(header, values, strict=False) if k and v}
        if cells:
            rows.append(Row(number, cells))
    return rows


def _from_grids(sheets: dict[str, list[list[str]]], source: str) -> FormTables:
    """Rows keep their sheet numbers (the header is row 1), blank rows included in the count."""
    tables = FormTables(source=source)
    for sheet, grid in sheets.items():
        if not grid:
            continue
        header = [_clean_header(h) for h in grid[0]]
        rows = []
        for number, values in enumerate(grid[1:], start=2):
            cells = {k: v for k, v in zip(header, values, strict=False) if k and v}
            if cells:
                rows.append(Row(number, cells))
        if sheet == "settings":
            tables.settings = rows[0].cells if rows else {}
        else:
            setattr(tables, sheet, rows)
    return tables


FORM_KINDS = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".md": "markdown",
}


def read_form_file(path: Path, *, attachments: tuple[Path, ...] = ()) -> FormTables:
    """Read a form from an ``.xlsx``/``.xlsm``/``.xls``, ``.yaml``/``.yml`` or ``.md`` file,
    with the CSV files its ``select_one_from_file`` rows name."""
    kind = FORM_KINDS.get(path.suffix.lower())
    if kind is None:
        raise FormFileError(
            f"{path.name}: unsupported form file; use .xlsx, .xls or .xlsm (XLSForm), .yaml or .md",
            code="form_file.unsupported_type",
        )
    return read_form_bytes(
        path.read_bytes(),
        kind=kind,
        source=path.name,
        attachments={a.name: a.read_bytes() for a in attachments},
    )


def read_form_bytes(
    data: bytes,
    *,
    kind: str,
    source: str,
    attachments: dict[str, bytes] | None = None,
    limits: Limits | None = None,
) -> FormTables:
    """A form from the bytes of its file; ``source`` is the file name (the default form id)."""
    tables = _read_kind(data, kind=kind, source=source, limits=limits)
    for name, content in (attachments or {}).items():
        tables.attachments[name] = read_attachment(content, name=name)
    return tables


def _read_kind(data: bytes, *, kind: str, source: str, limits: Limits | None) -> FormTables:
    if kind == "xlsx":
        return read_xlsx(data, source=source, limits=limits)
    if kind == "xls":
        return read_xls(data, source=source, limits=limits)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormFileError(f"{source}: not UTF-8 text; save it as UTF-8") from exc
    if kind == "yaml":
        return read_yaml(text, source=source)
    if kind == "markdown":
        return read_markdown(text, source=source)
    raise FormFileError(
        f"{source}: unknown form file kind {kind!r}", code="form_file.unsupported_type"
    )


LANGUAGE_IN_HEADER = re.compile(
    r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\)\s*$"
)


def language_code(label: str) -> str:
    """``English (en)`` and ``en`` both mean ``en``; XLSForm allows either after ``::``."""
    match = LANGUAGE_IN_HEADER.match(label)
    return (match.group("code") if match else label).strip().lower()
