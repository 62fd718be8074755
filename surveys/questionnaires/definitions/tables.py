"""An XLSForm as three (or four) tables of rows, whatever file it came from.

A :class:`FormTables` keeps every cell as text, and every row keeps the number it had in its sheet
(the header is row 1), so validation can say "survey sheet, row 14, column relevant". It is read
from an XLSX workbook, from the YAML files of the built-in catalogue, or from small markdown or
CSV tables (as tests write them). ``indicators`` is accessgap's extension: the indicators declared
beside the questions that feed them.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SHEETS = ("survey", "choices", "settings", "indicators")


class FormFileError(ValueError):
    """A file that cannot be read as a form at all (not a single rule can run on it)."""


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


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return yaml.safe_dump(value, default_flow_style=True, sort_keys=True).strip()
    return str(value).strip()


def _clean_header(header: object) -> str:
    text = _text(header)
    if "::" in text:
        column, language = text.split("::", 1)
        return f"{column.strip().lower()}::{language.strip()}"
    return text.lower()


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
    for sheet in ("survey", "choices", "indicators"):
        records = data.get(sheet) or []
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise FormFileError(f"{source}: '{sheet}' must be a list of rows (mappings)")
        setattr(tables, sheet, _rows(records))
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise FormFileError(f"{source}: 'settings' must be a mapping")
    tables.settings = {_clean_header(k): _text(v) for k, v in settings.items() if _text(v)}
    return tables


# libyaml's parser with PyYAML's safe constructors: the same documents, about ten times faster
# (the catalogue is read at every demo load and in many tests).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str, *, source: str = "") -> FormTables:
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader, C or Python
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


def read_xlsx(data: bytes, *, source: str = "") -> FormTables:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise FormFileError(
            f"{source}: not a readable XLSX workbook ({type(exc).__name__}); "
            "save it again as .xlsx from a spreadsheet program"
        ) from exc
    sheets: dict[str, list[list[str]]] = {}
    try:
        for sheet in workbook.worksheets:
            name = sheet.title.strip().lower()
            if name not in SHEETS:
                continue
            grid = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            sheets[name] = grid
    finally:
        workbook.close()
    if "survey" not in sheets:
        raise FormFileError(f"{source}: the workbook has no 'survey' sheet")
    return _from_grids(sheets, source)


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


_SUFFIXES = {".xlsx": "xlsx", ".yaml": "yaml", ".yml": "yaml", ".md": "markdown"}


def read_form_file(path: Path) -> FormTables:
    """Read a form from an ``.xlsx``, ``.yaml``/``.yml`` or ``.md`` file."""
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise FormFileError(
            f"{path.name}: unsupported form file; use .xlsx (XLSForm), .yaml or .md"
        )
    return read_form_bytes(path.read_bytes(), kind=kind, source=path.name)


def read_form_bytes(data: bytes, *, kind: str, source: str) -> FormTables:
    if kind == "xlsx":
        return read_xlsx(data, source=source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormFileError(f"{source}: not UTF-8 text; save it as UTF-8") from exc
    if kind == "yaml":
        return read_yaml(text, source=source)
    if kind == "markdown":
        return read_markdown(text, source=source)
    raise FormFileError(f"{source}: unknown form file kind {kind!r}")


LANGUAGE_IN_HEADER = re.compile(
    r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\)\s*$"
)


def language_code(label: str) -> str:
    """``English (en)`` and ``en`` both mean ``en``; XLSForm allows either after ``::``."""
    match = LANGUAGE_IN_HEADER.match(label)
    return (match.group("code") if match else label).strip().lower()
