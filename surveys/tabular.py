"""Reading and writing the tabular files people exchange: CSV (any common dialect) and XLSX.

Spreadsheet safety lives here too: a cell that starts with a formula trigger is neutralised with a
leading apostrophe before it is written (OWASP "CSV injection"; ASVS 1.2.10), so opening an export
in Excel or LibreOffice never runs anything.

:func:`csv_chunks` is the one CSV writer: RFC 4180 (comma, double quotes doubled, CRLF), UTF-8,
an optional BOM for Excel, text cells neutralised. Numbers are written as numbers, so ``-3``
typed as an integer stays ``-3``. Text is written as stored: emoji, right-to-left text,
combining marks and line breaks inside answers come back byte for byte from any RFC 4180 reader.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")
SUPPORTED_SUFFIXES = (".csv", ".xlsx")
BOM = "\ufeff".encode()
CHUNK_ROWS = 200
# First characters after which a text cell needs a closer look (a trigger, or a leading space).
_SUSPECT = frozenset(FORMULA_TRIGGERS) | {" "}


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


class RowCounter:
    """Counts the data rows a writer consumed (the header is not a row)."""

    def __init__(self) -> None:
        self.rows = 0


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    bom: bool = False,
    counter: RowCounter | None = None,
    check: Sequence[int] | None = None,
) -> Iterator[bytes]:
    """UTF-8 CSV bytes, a few hundred rows per chunk, every text cell safe to open.

    ``check`` names the only columns whose text needs the formula guard, for a producer that
    guarded the other columns itself (the long export format guards its repeated keys once per
    response); by default every text cell is checked.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    neutralise = neutralise_formula
    suspect = _SUSPECT
    if bom:
        yield BOM
    writer.writerow([neutralise(h) for h in header])
    pending = 0
    count = 0
    for row in rows:
        if check is None:
            row = [
                neutralise(c) if c.__class__ is str and c and c[0] in suspect else c for c in row
            ]
        else:
            for index in check:
                cell = row[index]
                if cell.__class__ is str and cell and cell[0] in suspect:
                    row[index] = neutralise(cell)  # type: ignore[index]
        writer.writerow(row)
        pending += 1
        count += 1
        if pending >= CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate(0)
            pending = 0
            if counter is not None:
                counter.rows = count
    if counter is not None:
        counter.rows = count
    yield buffer.getvalue().encode("utf-8")
