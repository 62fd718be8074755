from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from pyxform.xls2xform import convert

from surveys.questionnaires.definitions.model import content_hash, to_definition
from surveys.questionnaires.definitions.tables import FormFileError, read_form_bytes, read_yaml
from surveys.questionnaires.definitions.xlsform import write_xlsx, write_yaml
from surveys.questionnaires.rules import validate
from surveys.questionnaires.service import catalogue_tables
from tests.surveys.questionnaires.forms import tables

CATALOGUE = {t.settings["form_id"]: t for t in catalogue_tables()}


@pytest.mark.parametrize("form_id", sorted(CATALOGUE))
def test_catalogue_form_round_trips_through_xlsx_and_yaml(form_id: str) -> None:
    definition = to_definition(CATALOGUE[form_id])
    again = to_definition(read_form_bytes(write_xlsx(definition), kind="xlsx", source="x.xlsx"))
    assert again == definition
    assert content_hash(again) == content_hash(definition)
    from_yaml = to_definition(read_yaml(write_yaml(definition)))
    assert from_yaml == definition


@pytest.mark.parametrize("form_id", sorted(CATALOGUE))
def test_every_exported_form_converts_with_pyxform(form_id: str, tmp_path: Path) -> None:
    path = tmp_path / f"{form_id}.xlsx"
    path.write_bytes(write_xlsx(to_definition(CATALOGUE[form_id])))
    result = convert(xlsform=str(path))
    assert f'id="{form_id}"' in result.xform
    assert "<h:title>" in result.xform
    # Every generated label is translated: pyxform has nothing to warn about (or_other would
    # leave "Other" in English in ODK Collect and Kobo).
    assert not [w for w in result.warnings if "or_other" in w or "translation" in w.lower()]


def test_exported_headers_name_languages_the_xlsform_way() -> None:
    workbook = openpyxl.load_workbook(
        io.BytesIO(write_xlsx(to_definition(CATALOGUE["radiotherapy"]))), read_only=True
    )
    header = next(workbook["survey"].iter_rows(values_only=True))
    assert "label::English (en)" in header
    assert "label::French (fr)" in header
    assert set(workbook.sheetnames) == {"survey", "choices", "settings", "indicators"}


def test_the_same_content_from_different_files_has_the_same_hash() -> None:
    md = tables("""
| survey |
|        | type    | name | label::en |
|        |         |      |           |
|        | integer | a    | A         |
""")
    compact = tables("""
| survey |
|        | type    | name | label |
|        | integer | a    | A     |
""")
    assert content_hash(to_definition(md)) == content_hash(to_definition(compact))


def test_a_kobo_style_workbook_with_blank_rows_keeps_sheet_row_numbers() -> None:
    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(["type", "name", "label::English (en)"])
    survey.append(["integer", "a", "A"])
    survey.append([None, None, None])
    survey.append(["integer", "a", "Again"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = validate(read_form_bytes(buffer.getvalue(), kind="xlsx", source="kobo.xlsx"))
    duplicate = next(p for p in result.errors if p.code == "definition.duplicate_name")
    assert duplicate.row == 4


@pytest.mark.parametrize(
    ("data", "kind", "message"),
    [
        (b"PK\x03\x04broken", "xlsx", "not a readable XLSX"),
        (b"\xff\xfe", "yaml", "not UTF-8"),
        (b"survey: [unclosed", "yaml", "not valid YAML"),
        (b"- just a list", "yaml", "expected a mapping"),
        (b"survey: 5", "yaml", "must be a list of rows"),
    ],
)
def test_unreadable_files_are_clear_errors(data: bytes, kind: str, message: str) -> None:
    with pytest.raises(FormFileError, match=message):
        read_form_bytes(data, kind=kind, source="upload")
