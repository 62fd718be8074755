"""Reading XLSForm spreadsheets (.xlsx, .xlsm, .xls) as grids of text, within fixed bounds.

A form is a few hundred rows; a workbook that is much bigger is a mistake or an attack, and
reading it must not hang a worker or exhaust its memory. So the reader:

* reads only the cells that exist: the sheet's declared dimension (LibreOffice writes
  ``A1:AMJ1048576`` for a small form) is ignored, rows are not padded to it, and trailing
  empty cells are dropped;
* refuses, with a coded :class:`FormFileError`, a file larger than ``MAX_FILE_BYTES``, an XLSX
  whose parts unpack to more than ``MAX_UNPACKED_BYTES`` (a 100 MB cell compresses to a few
  hundred KB), a sheet with more than ``MAX_ROWS`` filled rows or a cell beyond column
  ``MAX_COLUMNS``, a cell longer than ``MAX_CELL_CHARS`` characters, and any read that takes
  longer than ``MAX_SECONDS``.

These bounds make the work of one upload bounded in time and memory whichever thread or
process runs it.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

MAX_FILE_BYTES: Final = 10 * 1024 * 1024
MAX_UNPACKED_BYTES: Final = 64 * 1024 * 1024
MAX_ROWS: Final = 20_000
MAX_COLUMNS: Final = 200
MAX_CELL_CHARS: Final = 10_000
MAX_SECONDS: Final = 20.0
SHEETS: Final = ("survey", "choices", "settings", "indicators", "external_choices")


class FormFileError(ValueError):
    """A file that cannot be read as a form at all (not a single rule can run on it).

    ``code`` is stable (``form_file.too_large``...) and documented in docs/questionnaires.md.
    """

    def __init__(self, message: str, *, code: str = "form_file.unreadable") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Limits:
    """The bounds of one read; tests lower them to exercise each refusal cheaply."""

    file_bytes: int = MAX_FILE_BYTES
    unpacked_bytes: int = MAX_UNPACKED_BYTES
    rows: int = MAX_ROWS
    columns: int = MAX_COLUMNS
    cell_chars: int = MAX_CELL_CHARS
    seconds: float = MAX_SECONDS


def cell_text(value: object) -> str:
    """A cell as text: whole floats without ``.0``, booleans as yes/no, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


class _Reader:
    def __init__(self, source: str, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds

    def grid(self, sheet: str, rows: Iterable[Iterable[object]]) -> list[list[str]]:
        """The sheet's rows as text, empty rows kept (row numbers must match the sheet)."""
        grid: list[list[str]] = []
        filled = 0
        for number, values in enumerate(rows, start=1):
            if number % 512 == 0 and time.monotonic() > self.deadline:
                raise FormFileError(
                    f"{self.source}: reading the workbook took longer than "
                    f"{self.limits.seconds:g} s; remove unused rows and sheets, or save it "
                    "again as a new .xlsx",
                    code="form_file.too_slow",
                )
            texts = [cell_text(v) for v in values]
            while texts and texts[-1] == "":
                texts.pop()
            if not texts:
                grid.append([])
                continue
            filled += 1
            if filled > self.limits.rows:
                raise FormFileError(
                    f"{self.source}: the {sheet} sheet has more than {self.limits.rows} filled "
                    "rows; a form this large is not supported (split it)",
                    code="form_file.too_many_rows",
                )
            if len(texts) > self.limits.columns:
                raise FormFileError(
                    f"{self.source}: {sheet} sheet, row {number} has a value in column "
                    f"{len(texts)}; at most {self.limits.columns} columns are read. Delete the "
                    "stray cells to the right of the form",
                    code="form_file.too_many_columns",
                )
            for column, text in enumerate(texts, start=1):
                if len(text) > self.limits.cell_chars:
                    raise FormFileError(
                        f"{self.source}: {sheet} sheet, row {number}, column {column} holds "
                        f"{len(text)} characters; a cell may hold at most "
                        f"{self.limits.cell_chars}. Shorten it",
                        code="form_file.cell_too_long",
                    )
            grid.append(texts)
        while grid and not grid[-1]:
            grid.pop()
        return grid


def _check_size(data: bytes, source: str, limits: Limits) -> None:
    if len(data) > limits.file_bytes:
        raise FormFileError(
            f"{source}: the file is {len(data) // 1024} KB; a form file may be at most "
            f"{limits.file_bytes // 1024} KB. Remove images and unused sheets",
            code="form_file.too_large",
        )


def read_xlsx_grids(
    data: bytes, *, source: str, limits: Limits | None = None
) -> dict[str, list[list[str]]]:
    """The form sheets of an .xlsx or .xlsm workbook, keyed by lower-case sheet name."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    limits = limits or Limits()
    _check_size(data, source, limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FormFileError(
            f"{source}: not a readable XLSX workbook ({type(exc).__name__}); "
            "save it again as .xlsx from a spreadsheet program"
        ) from exc
    if unpacked > limits.unpacked_bytes:
        raise FormFileError(
            f"{source}: the workbook unpacks to {unpacked // (1024 * 1024)} MB; at most "
            f"{limits.unpacked_bytes // (1024 * 1024)} MB is read. Look for a huge cell or "
            "pasted data and remove it",
            code="form_file.too_large",
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise FormFileError(
            f"{source}: not a readable XLSX workbook ({type(exc).__name__}); "
            "save it again as .xlsx from a spreadsheet program"
        ) from exc
    reader = _Reader(source, limits)
    sheets: dict[str, list[list[str]]] = {}
    try:
        for sheet in workbook.worksheets:
            name = sheet.title.strip().lower()
            if name not in SHEETS or name in sheets:
                continue
            # Forget the declared dimension so that rows are neither padded nor invented.
            sheet.reset_dimensions()
            sheets[name] = reader.grid(name, sheet.iter_rows(values_only=True))
    except FormFileError:
        raise
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise FormFileError(
            f"{source}: a sheet of the workbook cannot be read ({type(exc).__name__}); "
            "save it again as .xlsx from a spreadsheet program"
        ) from exc
    finally:
        workbook.close()
    return sheets


def read_xls_grids(
    data: bytes, *, source: str, limits: Limits | None = None
) -> dict[str, list[list[str]]]:
    """The form sheets of a legacy Excel 97-2003 (.xls) workbook."""
    import xlrd

    limits = limits or Limits()
    _check_size(data, source, limits)
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except (xlrd.XLRDError, OSError, ValueError, AssertionError, IndexError) as exc:
        raise FormFileError(
            f"{source}: not a readable .xls workbook ({type(exc).__name__}); "
            "save it again as .xlsx from a spreadsheet program"
        ) from exc
    reader = _Reader(source, limits)
    sheets: dict[str, list[list[str]]] = {}
    try:
        for index, title in enumerate(book.sheet_names()):
            name = title.strip().lower()
            if name not in SHEETS or name in sheets:
                continue
            sheet = book.sheet_by_index(index)
            sheets[name] = reader.grid(name, _xls_rows(sheet, book.datemode))
    finally:
        book.release_resources()
    return sheets


def _xls_rows(sheet: object, datemode: int) -> Iterator[list[object]]:
    import xlrd

    for index in range(sheet.nrows):  # type: ignore[attr-defined]
        row: list[object] = []
        for cell in sheet.row(index):  # type: ignore[attr-defined]
            if cell.ctype == xlrd.XL_CELL_DATE:
                row.append(xlrd.xldate.xldate_as_datetime(cell.value, datemode))
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                row.append(bool(cell.value))
            else:
                row.append(cell.value)
        yield row
