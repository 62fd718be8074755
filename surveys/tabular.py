"""Reading and writing the tabular files people exchange: CSV (any common dialect) and XLSX.

Spreadsheet safety lives here too: a cell that starts with a formula trigger is neutralised with a
leading apostrophe before it is written (OWASP "CSV injection"; ASVS 1.2.10), so opening an export
in Excel or LibreOffice never runs anything.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")
SUPPORTED_SUFFIXES = (".csv", ".xlsx")


class TabularFileError(ValueError):
    """A file that cannot be read as a table, with what to do about it."""


def neutralise_formula(value: str) -> str:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe.

    Leading spaces do not protect a formula in every spreadsheet, so they are looked through.
    """
    stripped = value.lstrip(" ")
    if stripped.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    """Rows of a CSV or XLSX file as dicts keyed by the (trimmed, lower-cased) header."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _read_csv(path.read_bytes())
    elif suffix == ".xlsx":
        yield from _read_xlsx(path)
    else:
        raise TabularFileError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )


def _read_csv(data: bytes) -> Iterator[dict[str, str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TabularFileError(
            f"the file is not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8' and try again"
        ) from exc
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header = next(reader, None)
    if header is None:
        raise TabularFileError("the file is empty; it needs a header row and at least one row")
    keys = [h.strip().lower() for h in header]
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        yield {k: (values[i] if i < len(values) else "") for i, k in enumerate(keys) if k}


def _read_xlsx(path: Path) -> Iterator[dict[str, str]]:
    import openpyxl  # imported here: only XLSX imports pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise TabularFileError(
            f"{path.name} is not a readable XLSX workbook ({type(exc).__name__}); "
            "save it again from a spreadsheet program as .xlsx"
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise TabularFileError("the first sheet is empty; it needs a header row")
        keys = [str(h).strip().lower() if h is not None else "" for h in header]
        for values in rows:
            cells = ["" if v is None else _cell_text(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            yield {k: (cells[i] if i < len(cells) else "") for i, k in enumerate(keys) if k}
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())[:10] if hasattr(value, "hour") else str(value.isoformat())
    return str(value)


def write_csv(rows: Iterable[Iterable[object]], *, bom: bool = False) -> Iterator[str]:
    """CSV text chunks (RFC 4180 quoting, CRLF line ends), text cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    if bom:
        yield "\ufeff"
    for row in rows:
        writer.writerow(
            [neutralise_formula(c) if isinstance(c, str) else ("" if c is None else c) for c in row]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
