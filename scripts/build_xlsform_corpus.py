"""Write the XLSForm corpus of tests/surveys/questionnaires/corpus/ (run from the repository root).

Each workbook is shaped like the forms people bring from KoboToolbox, ODK and field survey
libraries, written here from the XLSForm specification: older spellings (pyxform's aliases,
single-colon translations, ``id_string``, no version), metadata, geopoints, cascading selects,
choice lists in an attached CSV or an ``external_choices`` sheet, device-only types, a LibreOffice
dimension that claims a million rows, and a legacy .xls. ``expected.json`` says what import must
give for each file; tests/surveys/questionnaires/test_corpus.py holds import, export and pyxform
to it.

    python scripts/build_xlsform_corpus.py
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import xlwt

CORPUS = Path("tests/surveys/questionnaires/corpus")
Sheet = list[list[Any]]


def xlsx(sheets: dict[str, Sheet]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xls(sheets: dict[str, Sheet]) -> bytes:
    workbook = xlwt.Workbook(encoding="utf-8")
    for title, rows in sheets.items():
        sheet = workbook.add_sheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def libreoffice_dimension(data: bytes) -> bytes:
    """The workbook as LibreOffice saves it: every sheet claims A1:AMJ1048576."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                text = re.sub(r'<dimension ref="[^"]*"\s*/>', "", content.decode("utf-8"))
                text = text.replace("<sheetViews>", '<dimension ref="A1:AMJ1048576"/><sheetViews>')
                if "<dimension" not in text:
                    text = text.replace("<sheetData", '<dimension ref="A1:AMJ1048576"/><sheetData')
                content = text.encode("utf-8")
            target.writestr(info, content)
    return out.getvalue()


YES_NO = [["yes_no", "yes", "Yes"], ["yes_no", "no", "No"]]

FORMS: dict[str, tuple[dict[str, Sheet], dict[str, Any]]] = {
    # A Kobo health facility assessment: metadata, geopoint, aliases, no version, id_string.
    "facility_assessment.xlsx": (
        {
            "survey": [
                ["type", "name", "label", "hint", "required", "relevant", "default"],
                ["start", "start", None, None, None, None, None],
                ["end", "end", None, None, None, None, None],
                ["today", "today", None, None, None, None, None],
                ["deviceid", "deviceid", None, None, None, None, None],
                ["string", "facility_name", "Facility name", None, "yes", None, None],
                ["gps", "location", "Location of the facility", "Stand at the entrance", None],
                ["select one from yes_no", "has_lab", "Is there a laboratory?", None, "yes"],
                ["int", "beds", "Number of beds", None, None, "${has_lab} = 'yes'", "0"],
                ["date", "visit_date", "Date of the visit", None, None, None, None],
                ["time", "opening", "Opening time", None, None, None, None],
                ["dateTime", "last_outage", "Last power outage", None, None, None, None],
                ["phone number", "phone", "Facility phone", None, None, None, None],
            ],
            "choices": [["list_name", "name", "label"], *YES_NO],
            "settings": [["id_string", "form_title"], ["facility_assessment", "Facility"]],
        },
        {"ok": True, "form_id": "facility_assessment", "version_from_content": True},
    ),
    # Single-colon translation headers in a one-language form, no settings sheet at all.
    "single_colon_english.xlsx": (
        {
            "survey": [
                ["type", "name", "label:English", "hint:English"],
                ["begin group", "staff", None, None],
                ["integer", "nurses", "Nurses", "Full-time equivalents"],
                ["integer", "doctors", "Doctors", None],
                ["end group", None, None, None],
            ],
        },
        {"ok": True, "form_id": "single_colon_english", "labels": {"nurses": "Nurses"}},
    ),
    # Two languages with single colons, or_other, a cascading select with choice_filter.
    "cascading_bilingual.xlsx": (
        {
            "survey": [
                ["type", "name", "label:English", "label:French", "choice_filter"],
                ["select_one region or_other", "region", "Region", "Région", None],
                ["select_one district", "district", "District", "District", "region=${region}"],
            ],
            "choices": [
                ["list_name", "name", "label:English", "label:French", "region"],
                ["region", "north", "North", "Nord", None],
                ["region", "south", "South", "Sud", None],
                ["district", "n1", "North 1", "Nord 1", "north"],
                ["district", "s1", "South 1", "Sud 1", "south"],
            ],
            "settings": [["form_id", "version", "default_language"], ["Cascade", "3", "English"]],
        },
        {"ok": True, "form_id": "Cascade"},
    ),
    # select_one_from_file with the attached CSV, repeat_count, indexed-repeat, once().
    "clinics_from_file.xlsx": (
        {
            "survey": [
                ["type", "name", "label", "repeat_count", "calculation"],
                ["select_one_from_file clinics.csv", "clinic", "Clinic", None, None],
                ["integer", "n_rooms", "How many rooms?", None, None],
                ["begin_repeat", "room", "Room", "${n_rooms}", None],
                ["text", "room_use", "Use of the room", None, None],
                ["end_repeat", None, None, None, None],
                ["calculate", "first_use", None, None, "indexed-repeat(${room_use}, ${room}, 1)"],
                ["calculate", "started", None, None, "once(today())"],
                ["calculate", "clinic_label", None, None, "jr:choice-name(${clinic}, '${clinic}')"],
            ],
            "settings": [["form_id", "version"], ["clinics", "2024.1"]],
        },
        {"ok": True, "form_id": "clinics", "attachments": ["clinics.csv"]},
    ),
    # select_one_external with an external_choices sheet.
    "external_choices.xlsx": (
        {
            "survey": [
                ["type", "name", "label", "choice_filter"],
                ["select_one country", "country", "Country", None],
                ["select_one_external city", "city", "City", "country=${country}"],
            ],
            "choices": [
                ["list_name", "name", "label"],
                ["country", "fr", "France"],
                ["country", "it", "Italy"],
            ],
            "external_choices": [
                ["list_name", "name", "label", "country"],
                ["city", "paris", "Paris", "fr"],
                ["city", "rome", "Rome", "it"],
            ],
            "settings": [["form_id"], ["cities"]],
        },
        {"ok": True, "form_id": "cities"},
    ),
    # Device types are refused with a suggestion; last-saved defaults are refused.
    "device_types.xlsx": (
        {
            "survey": [
                ["type", "name", "label", "default"],
                ["image", "photo", "Photo of the machine", None],
                ["barcode", "serial", "Serial number", None],
                ["audio", "note_audio", "Spoken note", None],
                ["integer", "units", "Units", "${last-saved#units}"],
            ],
            "settings": [["form_id", "version"], ["devices", "1"]],
        },
        {
            "ok": False,
            "errors": [
                [2, "definition.unsupported_type"],
                [3, "definition.unsupported_type"],
                [4, "definition.unsupported_type"],
                [5, "definition.last_saved_default"],
            ],
        },
    ),
    # A group without a label in a two-language form: a warning, as in a one-language form.
    "unlabelled_group.xlsx": (
        {
            "survey": [
                ["type", "name", "label::English (en)", "label::French (fr)", "calculation"],
                ["begin_group", "block", None, None, None],
                ["integer", "a", "A", "A", None],
                ["integer", "b", "B", "B", None],
                ["end_group", None, None, None, None],
                ["calculate", "total", None, None, " + ".join(["${a}", "${b}"] * 50) + " + 1"],
            ],
            "settings": [["form_id", "version"], ["blocks", "1"]],
        },
        {"ok": True, "form_id": "blocks", "warnings": ["definition.missing_label"]},
    ),
    # Saved by LibreOffice: every sheet declares a million rows and 1024 columns.
    "libreoffice_dimension.xlsx": (
        {
            "survey": [["type", "name", "label"], ["text", "remarks", "Remarks"]],
            "settings": [["form_id", "version"], ["libre", "1"]],
        },
        {"ok": True, "form_id": "libre"},
    ),
    # The legacy Excel 97-2003 format.
    "legacy_survey.xls": (
        {
            "survey": [
                ["type", "name", "label"],
                ["select one yes_no", "screening", "Does the centre screen?"],
                ["decimal", "share", "Share of patients screened"],
            ],
            "choices": [["list name", "name", "label"], *YES_NO],
        },
        {"ok": True, "form_id": "legacy_survey"},
    ),
}

CLINICS_CSV = "name,label,district\nc1,Central clinic,north\nc2,River clinic,south\n"


def main() -> None:
    CORPUS.mkdir(parents=True, exist_ok=True)
    expected: dict[str, Any] = {}
    for name, (sheets, outcome) in FORMS.items():
        data = xls(sheets) if name.endswith(".xls") else xlsx(sheets)
        if name == "libreoffice_dimension.xlsx":
            data = libreoffice_dimension(data)
        (CORPUS / name).write_bytes(data)
        expected[name] = outcome
    (CORPUS / "clinics.csv").write_text(CLINICS_CSV, encoding="utf-8")
    (CORPUS / "expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
