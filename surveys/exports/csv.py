"""CSV chunks: RFC 4180 (comma, double quotes doubled, CRLF), UTF-8, optional BOM for Excel.

Text cells that a spreadsheet would run as a formula get a leading apostrophe
(:func:`surveys.tabular.neutralise_formula`); numbers are written as numbers, so ``-3`` typed as
an integer stays ``-3``. Text is written as stored: emoji, right-to-left text, combining marks
and line breaks inside answers come back byte for byte from any RFC 4180 reader.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from surveys.tabular import FORMULA_TRIGGERS, neutralise_formula

BOM = "\ufeff".encode()
CHUNK_ROWS = 200
# First characters after which a text cell needs a closer look (a trigger, or a leading space).
_SUSPECT = frozenset(FORMULA_TRIGGERS) | {" "}


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
    """UTF-8 CSV bytes, a few hundred rows per chunk.

    ``check`` names the only columns whose text needs the formula guard, for a producer that
    guarded the other columns itself (the long format guards its repeated keys once per
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
