"""Writing a definition as an XLSForm workbook (and as the catalogue's YAML).

Language columns are written ``label::French (fr)``, the form XLSForm tools (pyxform, ODK, Kobo)
read as "language French, code fr". accessgap's own extras travel with the form so that import,
export and import again give the same definition: the ``identifier`` column, the ``domain``
setting and an ``indicators`` sheet; XLSForm tools ignore them.
"""

from __future__ import annotations

import io
from typing import Any

import pycountry
import yaml

from surveys.questionnaires.definitions.model import (
    GENERATED_OTHER_SUFFIX,
    other_relevance,
    other_texts,
    split_column,
    to_tables,
)
from surveys.questionnaires.definitions.tables import FormTables, Row


def language_header(code: str) -> str:
    record = pycountry.languages.get(alpha_2=code) if len(code) == 2 else None
    return f"{record.name} ({code})" if record is not None else code


def _header(column: str) -> str:
    base, language = split_column(column)
    return f"{base}::{language_header(language)}" if language else column


def _columns(rows: list[Row], first: tuple[str, ...]) -> list[str]:
    seen: dict[str, None] = dict.fromkeys(c for c in first if any(c in r.cells for r in rows))
    for row in rows:
        seen.update(dict.fromkeys(row.cells))
    return list(seen)


def write_xlsx(definition: dict[str, Any]) -> bytes:
    """The definition as an XLSForm workbook (survey, choices, settings, indicators)."""
    import openpyxl

    tables = spell_out_other(to_tables(definition), definition["languages"])
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    sheets: tuple[tuple[str, list[Row], tuple[str, ...]], ...] = (
        ("survey", tables.survey, ("type", "name")),
        ("choices", tables.choices, ("list_name", "name")),
        ("settings", [Row(2, tables.settings)], ("form_id", "version")),
        ("indicators", tables.indicators, ("id",)),
    )
    for title, rows, first in sheets:
        if not rows:
            continue
        sheet = workbook.create_sheet(title)
        columns = _columns(rows, first)
        sheet.append([_header(c) for c in columns])
        for row in rows:
            sheet.append([row.cells.get(c, None) for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def spell_out_other(tables: FormTables, languages: list[str]) -> FormTables:
    """``or_other`` written out as the ``other`` choice and the ``NAME_other`` question.

    pyxform generates both in the form's default language only ("Other", "Specify other"), so
    ODK Collect and Kobo would show English to a French respondent. Written out, every label is
    translated; import reads the pattern back as ``or_other`` (``model``).
    """
    if len(languages) < 2:
        return tables
    choice_label, question_label = other_texts(languages)
    survey: list[Row] = []
    lists: list[str] = []
    for row in tables.survey:
        words = row.get("type").split()
        if len(words) == 3 and words[2] == "or_other":
            survey.append(Row(row.number, {**row.cells, "type": f"{words[0]} {words[1]}"}))
            cells = {"type": "text", "name": row.get("name") + GENERATED_OTHER_SUFFIX}
            cells.update({f"label::{lang}": text for lang, text in question_label.items()})
            cells.update({"relevant": other_relevance(row.get("name")), "required": "yes"})
            survey.append(Row(row.number, cells))
            if words[1] not in lists:
                lists.append(words[1])
        else:
            survey.append(row)
    choices = list(tables.choices)
    for list_name in lists:
        position = max(
            (i for i, r in enumerate(choices) if r.get("list_name") == list_name), default=-1
        )
        cells = {"list_name": list_name, "name": "other"}
        cells.update({f"label::{lang}": text for lang, text in choice_label.items()})
        choices.insert(position + 1, Row(0, cells))
    return FormTables(
        survey=survey,
        choices=choices,
        settings=tables.settings,
        indicators=tables.indicators,
        source=tables.source,
    )


def write_yaml(definition: dict[str, Any]) -> str:
    """The definition in the catalogue's YAML shape."""
    tables: FormTables = to_tables(definition)
    data = {
        "settings": tables.settings,
        "survey": [row.cells for row in tables.survey],
        "choices": [row.cells for row in tables.choices],
        "indicators": [row.cells for row in tables.indicators],
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
