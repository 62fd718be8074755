"""XLSX: one sheet per table and a codebook sheet, written by openpyxl's write-only workbook.

Write-only mode keeps each sheet's rows in a temporary file, not in memory; the finished workbook
is saved to a temporary file and streamed from there in chunks. Text cells are formula-guarded
like the CSV (a leading apostrophe, stored as text: the spreadsheet shows it and never evaluates
the cell); numbers stay numbers. Characters that XML 1.0 cannot hold (control characters other
than tab and line breaks) are replaced by U+FFFD, the only change a cell can see. Dates and
timestamps are written as ISO 8601 text, so no spreadsheet date system reinterprets them. XML
normalises line ends, so a CR LF inside an answer reads back as LF (the CSV formats keep it).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from surveys.tabular import RowCounter, neutralise_formula

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31
READ_CHUNK = 256 * 1024


def sheet_names(names: Sequence[str]) -> list[str]:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``, unique ignoring case."""
    used: set[str] = set()
    result: list[str] = []
    for name in names:
        base = SHEET_UNSAFE.sub("_", name)[:SHEET_NAME_MAX] or "sheet"
        candidate, number = base, 2
        while candidate.lower() in used:
            suffix = f"~{number}"
            candidate = base[: SHEET_NAME_MAX - len(suffix)] + suffix
            number += 1
        used.add(candidate.lower())
        result.append(candidate)
    return result


def _cell(value: Any) -> Any:
    if value.__class__ is str:
        return neutralise_formula(ILLEGAL_XML.sub("\ufffd", value))
    return value


Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]], RowCounter | None]


def xlsx_chunks(sheets: Iterable[Sheet]) -> Iterator[bytes]:
    """Write the sheets (name, header, rows, counter) and stream the saved workbook."""
    from openpyxl import Workbook  # imported here: only XLSX exports pay for it

    workbook = Workbook(write_only=True)
    for name, header, rows, counter in sheets:
        sheet = workbook.create_sheet(title=name)
        sheet.append([_cell(h) for h in header])
        count = 0
        for row in rows:
            sheet.append([_cell(c) for c in row])
            count += 1
        if counter is not None:
            counter.rows = count
    with tempfile.TemporaryFile(suffix=".xlsx") as saved:
        workbook.save(saved)
        saved.seek(0)
        while chunk := saved.read(READ_CHUNK):
            yield chunk
