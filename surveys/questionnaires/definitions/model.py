"""The canonical definition of a questionnaire: XLSForm rows, made regular.

Tables read from any file become one JSON document (stored in ``QuestionnaireVersion.definition``
and hashed for immutability):

``settings``     form_id, version, title {lang: text}, default_language, domain
``languages``    every language the form declares, default first
``survey``       rows in order; each with type, list_name, or_other, name, texts per language
                 (label, hint, required_message, constraint_message) and the logic columns
``choices``      {list_name: [{name, label {lang: text}, filters {column: value}}]}
``indicators``   the indicators declared beside the questions

Row numbers are not part of the definition: they belong to the file a form came from, and two
files with the same content must give the same definition (and hash).

Why one module of about 400 lines: it is the schema of the stored document, with the reading
of each sheet next to the field it fills; a reader checks one against the other in one place.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from surveys.questionnaires.definitions.tables import FormTables, Row, language_code

QUESTION_TYPES = frozenset(
    {
        "text",
        "integer",
        "decimal",
        "select_one",
        "select_multiple",
        "date",
        "note",
        "calculate",
        "acknowledge",
        "range",
    }
)
STRUCTURE_TYPES = frozenset({"begin_group", "end_group", "begin_repeat", "end_repeat"})
SUPPORTED_TYPES = QUESTION_TYPES | STRUCTURE_TYPES
UNSUPPORTED_TYPES = frozenset(
    {
        "geopoint",
        "geotrace",
        "geoshape",
        "image",
        "audio",
        "video",
        "file",
        "barcode",
        "time",
        "datetime",
        "start",
        "end",
        "today",
        "deviceid",
        "phonenumber",
        "username",
        "email",
        "audit",
        "hidden",
        "xml-external",
        "csv-external",
        "rank",
        "select_one_from_file",
        "select_multiple_from_file",
        "background-audio",
        "start-geopoint",
        "simserial",
        "subscriberid",
        "trigger",
        "begin_loop",
        "end_loop",
        "osm",
        "begin_table",
        "end_table",
    }
)
TRANSLATABLE = ("label", "hint", "required_message", "constraint_message")
LOGIC_COLUMNS = ("required", "relevant", "constraint", "calculation", "choice_filter")
PLAIN_COLUMNS = ("default", "read_only", "appearance", "parameters", "identifier")
SURVEY_COLUMNS = frozenset({"type", "name", *TRANSLATABLE, *LOGIC_COLUMNS, *PLAIN_COLUMNS})
# Columns of XLSForm (ODK, Kobo) that accessgap does not implement. Those that change what is
# asked or stored are errors; the others (media, display hints) are ignored with a warning.
UNSUPPORTED_LOGIC_COLUMNS = frozenset(
    {"repeat_count", "trigger", "body::accept", "bind::jr:preload"}
)
IGNORED_COLUMNS = frozenset(
    {
        "media",
        "image",
        "audio",
        "video",
        "big-image",
        "guidance_hint",
        "body",
        "bind",
        "instance",
        "label_other",
        "note",
        "comments",
        "kobo--locking-profile",
        "$kuid",
        "$autoname",
        "$prev",
        "$given_name",
        "select_from_list_name",
        "xpath",
    }
)
SETTINGS_KEYS = frozenset(
    {
        "form_id",
        "id_string",
        "version",
        "title",
        "form_title",
        "title_translation",
        "default_language",
        "domain",
    }
)
INDICATOR_AGGREGATIONS = ("sum", "count_yes", "share", "median", "mean")
INDICATOR_DENOMINATORS = (
    "population_per_million",
    "new_cases_per_thousand",
    "centres_responding",
    "none",
)
TRUE_WORDS = frozenset({"yes", "true", "true()", "1"})
FALSE_WORDS = frozenset({"", "no", "false", "false()", "0"})
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# Names XLSForm and XForms keep for themselves, or that would collide with generated fields.
RESERVED_NAMES = frozenset(
    {
        "instanceid",
        "instancename",
        "meta",
        "deprecatedid",
        "uuid",
        "version",
        "_id",
        "_uuid",
        "_submission_time",
        "_index",
        "_parent_index",
        "submission_uuid",
        "html",
        "head",
        "body",
        "model",
        "instance",
        "bind",
        "itext",
        "translation",
    }
)
GENERATED_OTHER_SUFFIX = "_other"
MATRIX_SEPARATOR = "__"


@dataclass(frozen=True)
class ParsedType:
    base: str
    list_name: str | None = None
    or_other: bool = False


def parse_type(text: str) -> ParsedType:
    """``select one yes_no or_other`` and ``select_one yes_no or_other`` are the same type."""
    words = text.strip().split()
    if not words:
        return ParsedType("")
    joined = "_".join(words[:2]).lower()
    if joined in {
        "select_one",
        "select_multiple",
        "begin_group",
        "end_group",
        "begin_repeat",
        "end_repeat",
        "select_one_from_file",
        "select_multiple_from_file",
    }:
        rest = words[2:]
    else:
        joined, rest = words[0].lower(), words[1:]
    if joined in {"select_one", "select_multiple"}:
        list_name = rest[0] if rest else None
        or_other = len(rest) > 1 and rest[1].lower() == "or_other"
        return ParsedType(joined, list_name, or_other)
    return ParsedType(joined)


def split_column(column: str) -> tuple[str, str | None]:
    """``label::English (en)`` is (``label``, ``en``); ``label`` is (``label``, None)."""
    if "::" in column:
        base, language = column.split("::", 1)
        return base, language_code(language)
    return column, None


def is_true(value: str) -> bool:
    return value.strip().lower() in TRUE_WORDS


def declared_languages(tables: FormTables) -> list[str]:
    """Every language the form's columns name, the default language first."""
    found: set[str] = set()
    for row in (*tables.survey, *tables.choices, *tables.indicators):
        for column in row.cells:
            base, language = split_column(column)
            if language and base in {*TRANSLATABLE, "unit", "title"}:
                found.add(language)
    for key in tables.settings:
        base, language = split_column(key)
        if language and base in {"title", "form_title", "title_translation"}:
            found.add(language)
    default = default_language(tables, found)
    return [default, *sorted(found - {default})]


def default_language(tables: FormTables, found: set[str] | None = None) -> str:
    declared = tables.settings.get("default_language", "").strip()
    if declared:
        return language_code(declared)
    if found and "en" not in found and len(found) == 1:
        return next(iter(found))
    return "en"


def texts(row: Row, base: str, default: str) -> dict[str, str]:
    """The translations of one text column of a row, keyed by language."""
    values: dict[str, str] = {}
    for column, value in row.cells.items():
        name, language = split_column(column)
        if name == base:
            values[language or default] = value
    return values


def _settings(tables: FormTables, default: str) -> dict[str, Any]:
    title: dict[str, str] = {}
    for key, value in tables.settings.items():
        base, language = split_column(key)
        if base in {"title", "form_title", "title_translation"}:
            title[language or default] = value
    form_id = tables.settings.get("form_id") or tables.settings.get("id_string", "")
    return {
        "form_id": form_id,
        "version": tables.settings.get("version", ""),
        "title": title,
        "default_language": default,
        "domain": tables.settings.get("domain") or None,
    }


def _survey_row(row: Row, default: str) -> dict[str, Any]:
    parsed = parse_type(row.get("type"))
    item: dict[str, Any] = {"type": parsed.base, "name": row.get("name")}
    if parsed.list_name:
        item["list_name"] = parsed.list_name
    if parsed.or_other:
        item["or_other"] = True
    for base in TRANSLATABLE:
        values = texts(row, base, default)
        if values:
            item[base] = values
    for column in (*LOGIC_COLUMNS, "default", "appearance", "parameters"):
        if row.get(column):
            item[column] = row.get(column)
    if is_true(row.get("read_only")):
        item["read_only"] = True
    if is_true(row.get("identifier")):
        item["identifier"] = True
    return item


_CHOICE_KNOWN = frozenset({"list_name", "name", "label", "list name", "media", "image"})


def _choices(tables: FormTables, default: str) -> dict[str, list[dict[str, Any]]]:
    lists: dict[str, list[dict[str, Any]]] = {}
    for row in tables.choices:
        list_name = row.get("list_name") or row.get("list name")
        choice: dict[str, Any] = {"name": row.get("name"), "label": texts(row, "label", default)}
        filters = {
            column: value
            for column, value in row.cells.items()
            if split_column(column)[0] not in _CHOICE_KNOWN
        }
        if filters:
            choice["filters"] = filters
        lists.setdefault(list_name, []).append(choice)
    return lists


def _indicator(row: Row, default: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": row.get("id"),
        "label": texts(row, "label", default),
        "numerator": row.get("numerator"),
        "aggregation": row.get("aggregation") or "sum",
        "denominator": row.get("denominator") or "none",
        "unit": texts(row, "unit", default),
        "higher_is_better": not row.get("higher_is_better") or is_true(row.get("higher_is_better")),
    }
    if row.get("benchmark"):
        item["benchmark"] = parse_benchmark(row.get("benchmark"))
    return item


def parse_benchmark(text: str) -> dict[str, Any]:
    """``{kind: rate, value: 5.3, source: ...}``, ``eu_median`` or ``top_quartile`` as a mapping."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return {"kind": str(value).strip()}


def to_definition(tables: FormTables) -> dict[str, Any]:
    """The canonical definition of validated tables."""
    languages = declared_languages(tables)
    default = languages[0]
    return {
        "settings": _settings(tables, default),
        "languages": languages,
        "survey": [_survey_row(row, default) for row in tables.survey],
        "choices": _choices(tables, default),
        "indicators": [_indicator(row, default) for row in tables.indicators],
    }


def content_hash(definition: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces): the identity of a version."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def to_tables(definition: dict[str, Any]) -> FormTables:
    """The XLSForm tables of a canonical definition (for export); row numbers are sheet rows."""
    languages: list[str] = definition["languages"]
    settings = definition["settings"]
    tables = FormTables(source=settings["form_id"])
    tables.settings = {
        "form_id": settings["form_id"],
        "version": settings["version"],
        "default_language": settings["default_language"],
    }
    default = settings["default_language"]
    for language, title in settings["title"].items():
        # XLSForm has one form_title; translations of it are accessgap's own setting.
        key = "form_title" if language == default else f"title_translation::{language}"
        tables.settings[key] = title
    if settings.get("domain"):
        tables.settings["domain"] = settings["domain"]
    for number, item in enumerate(definition["survey"], start=2):
        type_text = item["type"]
        if item.get("list_name"):
            type_text += " " + item["list_name"] + (" or_other" if item.get("or_other") else "")
        cells = {"type": type_text}
        if item.get("name"):
            cells["name"] = item["name"]
        for base in TRANSLATABLE:
            for language in languages:
                value = item.get(base, {}).get(language)
                if value:
                    cells[f"{base}::{language}"] = value
        for column in (*LOGIC_COLUMNS, "default", "appearance", "parameters"):
            if item.get(column):
                cells[column] = item[column]
        if item.get("read_only"):
            cells["read_only"] = "yes"
        if item.get("identifier"):
            cells["identifier"] = "yes"
        tables.survey.append(Row(number, cells))
    number = 2
    for list_name, choices in definition["choices"].items():
        for choice in choices:
            cells = {"list_name": list_name, "name": choice["name"]}
            for language in languages:
                if choice["label"].get(language):
                    cells[f"label::{language}"] = choice["label"][language]
            cells.update(choice.get("filters", {}))
            tables.choices.append(Row(number, cells))
            number += 1
    for number, indicator in enumerate(definition["indicators"], start=2):
        cells = {
            "id": indicator["id"],
            "numerator": indicator["numerator"],
            "aggregation": indicator["aggregation"],
            "denominator": indicator["denominator"],
            "higher_is_better": "yes" if indicator["higher_is_better"] else "no",
        }
        for base in ("label", "unit"):
            for language in languages:
                if indicator[base].get(language):
                    cells[f"{base}::{language}"] = indicator[base][language]
        if indicator.get("benchmark"):
            cells["benchmark"] = yaml.safe_dump(
                indicator["benchmark"], default_flow_style=True, sort_keys=True
            ).strip()
        tables.indicators.append(Row(number, cells))
    return tables
