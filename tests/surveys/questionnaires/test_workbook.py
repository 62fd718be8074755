"""Reading workbooks within bounds: each limit refused with its code, nothing padded."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from surveys.questionnaires.definitions.tables import read_form_bytes
from surveys.questionnaires.definitions.workbook import FormFileError, Limits

CORPUS = Path(__file__).with_name("corpus")


def workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "survey"
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


FORM = [["type", "name", "label"], ["text", "a", "A"], ["text", "b", "B"]]


@pytest.mark.parametrize(
    ("data", "limits", "code"),
    [
        (workbook(FORM), Limits(file_bytes=1000), "form_file.too_large"),
        (workbook(FORM), Limits(unpacked_bytes=2000), "form_file.too_large"),
        (workbook(FORM), Limits(rows=2), "form_file.too_many_rows"),
        (
            workbook([*FORM, ["text", "c", "C", *[None] * 5, "stray"]]),
            Limits(),
            "form_file.too_many_columns",
        ),
        (workbook([*FORM, ["note", "n", "x" * 11_000]]), Limits(), "form_file.cell_too_long"),
        (b"not a zip", Limits(), "form_file.unreadable"),
    ],
    ids=["file", "unpacked", "rows", "columns", "cell", "garbage"],
)
def test_each_limit_is_refused_with_its_code(data: bytes, limits: Limits, code: str) -> None:
    limits = Limits(**{**limits.__dict__, "columns": min(limits.columns, 5)})
    with pytest.raises(FormFileError) as raised:
        read_form_bytes(data, kind="xlsx", source="form.xlsx", limits=limits)
    assert raised.value.code == code


def test_a_huge_cell_is_refused_before_it_is_read() -> None:
    # Spreadsheet programs cap a cell at 32767 characters; a crafted file need not.
    source = zipfile.ZipFile(io.BytesIO(workbook(FORM)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b">A<", b">" + b"x" * 5_000_000 + b"<")
            target.writestr(info.filename, content)
    data = buffer.getvalue()
    assert len(data) < 1_000_000
    started = time.monotonic()
    with pytest.raises(FormFileError) as raised:
        read_form_bytes(
            data, kind="xlsx", source="big.xlsx", limits=Limits(unpacked_bytes=4_000_000)
        )
    assert raised.value.code == "form_file.too_large"
    assert time.monotonic() - started < 1


def test_a_declared_million_rows_are_not_padded() -> None:
    started = time.monotonic()
    data = (CORPUS / "libreoffice_dimension.xlsx").read_bytes()
    tables = read_form_bytes(data, kind="xlsx", source="libre.xlsx")
    assert time.monotonic() - started < 1
    assert [row.cells for row in tables.survey] == [
        {"type": "text", "name": "remarks", "label": "Remarks"}
    ]


def test_legacy_xls_and_single_colon_headers_are_read() -> None:
    tables = read_form_bytes(
        (CORPUS / "legacy_survey.xls").read_bytes(), kind="xls", source="legacy_survey.xls"
    )
    assert tables.survey[0].cells["type"] == "select one yes_no"
    assert {row.get("list_name") for row in tables.choices} == {"yes_no"}
