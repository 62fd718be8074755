"""The XLSForm corpus: workbooks shaped like the forms people bring, each read, validated,
exported and converted by pyxform, with the outcome ``corpus/expected.json`` names.

The workbooks are written by ``scripts/build_xlsform_corpus.py``; run it after changing them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pyxform.xls2xform import convert

from surveys.questionnaires.definitions.compiled import compile_definition
from surveys.questionnaires.definitions.model import content_hash, to_definition
from surveys.questionnaires.definitions.tables import (
    FORM_KINDS,
    FormTables,
    read_form_bytes,
    read_form_file,
)
from surveys.questionnaires.definitions.xlsform import write_xlsx
from surveys.questionnaires.rules import validate

CORPUS = Path(__file__).with_name("corpus")
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())


def read(name: str) -> FormTables:
    attachments = tuple(CORPUS / a for a in EXPECTED[name].get("attachments", []))
    return read_form_file(CORPUS / name, attachments=attachments)


def test_the_corpus_folder_and_its_expectations_match() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.suffix in FORM_KINDS}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_imports_exports_and_converts_as_expected(name: str, tmp_path: Path) -> None:
    expected = EXPECTED[name]
    started = time.monotonic()
    tables = read(name)
    assert time.monotonic() - started < 2, "reading a small form must be instant"
    result = validate(tables)
    if not expected["ok"]:
        errors = sorted([p.row, p.code] for p in result.errors)
        assert errors == sorted(expected["errors"]), [p.describe() for p in result.errors]
        return
    assert result.ok, [p.describe() for p in result.errors]
    for code in expected.get("warnings", []):
        assert code in {p.code for p in result.warnings}
    definition = to_definition(tables)
    assert definition["settings"]["form_id"] == expected["form_id"]
    assert definition["settings"]["version"]
    for question, label in expected.get("labels", {}).items():
        row = next(r for r in definition["survey"] if r["name"] == question)
        assert row["label"][definition["languages"][0]] == label
    compile_definition(definition)  # every expression parses for the pages too
    exported = write_xlsx(definition)
    again = to_definition(read_form_bytes(exported, kind="xlsx", source=name))
    assert content_hash(again) == content_hash(definition)
    path = tmp_path / f"{definition['settings']['form_id']}.xlsx"
    path.write_bytes(exported)
    converted = convert(xlsform=str(path))
    assert f'id="{expected["form_id"]}"' in converted.xform
    assert not [w for w in converted.warnings if "or_other" in w]


def test_a_version_from_the_content_changes_with_the_content() -> None:
    tables = read("facility_assessment.xlsx")
    first = to_definition(tables)["settings"]["version"]
    tables.survey[4].cells["label"] = "Name of the facility"
    assert to_definition(tables)["settings"]["version"] != first
    assert to_definition(read("facility_assessment.xlsx"))["settings"]["version"] == first


def test_choice_filter_of_the_corpus_keeps_only_the_answered_region() -> None:
    from surveys.questionnaires.answers import validate_answers

    form = compile_definition(to_definition(read("cascading_bilingual.xlsx")))
    good = validate_answers(form, {"region": "north", "district": "n1"})
    assert good.ok, good.errors
    wrong = validate_answers(form, {"region": "north", "district": "s1"})
    assert [(p.loc, p.code) for p in wrong.errors] == [(("district",), "choice")]


def test_attached_csv_choices_and_choice_names_are_used() -> None:
    from surveys.questionnaires.answers import validate_answers

    form = compile_definition(to_definition(read("clinics_from_file.xlsx")))
    answers = {"clinic": "c2", "n_rooms": 2, "room": [{"room_use": "x-ray"}, {"room_use": "ct"}]}
    checked = validate_answers(form, answers)
    assert checked.ok, checked.errors
    assert checked.answers["clinic_label"] == "River clinic"
    assert checked.answers["first_use"] == "x-ray"
    too_many = validate_answers(form, {**answers, "n_rooms": 1})
    assert [p.code for p in too_many.errors] == ["repeat_count"]
    unknown = validate_answers(form, {"clinic": "c9"})
    assert [p.code for p in unknown.errors] == ["choice"]
