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
        "datetime",
        "time",
        "geopoint",
        "note",
        "calculate",
        "acknowledge",
        "range",
    }
)
# Metadata: recorded by the server when a response is submitted, never asked.
METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "username",
        "email",
        "phonenumber",
        "simserial",
        "subscriberid",
    }
)
STRUCTURE_TYPES = frozenset({"begin_group", "end_group", "begin_repeat", "end_repeat"})
SUPPORTED_TYPES = QUESTION_TYPES | METADATA_TYPES | STRUCTURE_TYPES
# Choice lists read from elsewhere: an attached CSV file, or the external_choices sheet. The
# definition stores them as plain select_one/select_multiple with the choices inline.
FILE_SELECT_TYPES = {
    "select_one_from_file": "select_one",
    "select_multiple_from_file": "select_multiple",
    "select_one_external": "select_one",
    "select_multiple_external": "select_multiple",
}
UNSUPPORTED_TYPES: dict[str, str] = {
    # type: what to do instead (the fix of ``definition.unsupported_type``)
    "image": "A photo needs a device camera: ask for a description (text) or a link instead.",
    "audio": "A recording needs a device: ask for the content as text instead.",
    "video": "A video needs a device: ask for a description (text) or a link instead.",
    "file": "Ask for a link to the document (text) instead of an upload.",
    "barcode": "Ask for the code as text (a scanner that types into fields works with it).",
    "background-audio": "Remove the row: background recording needs a device.",
    "background-geopoint": "Use a geopoint question: the location is picked on a map here.",
    "start-geopoint": "Use a geopoint question: the location is picked on a map here.",
    "geotrace": "Use one geopoint per point, or describe the line as text.",
    "geoshape": "Use one geopoint per corner, or describe the area as text.",
    "osm": "Use a geopoint question.",
    "audit": "Remove the row: changes are audited by accessgap itself.",
    "rank": "Use select_multiple, or one integer question per item for its rank.",
    "hidden": "Use a calculate row for a value that is not shown.",
    "xml-external": "Attach the choices as a CSV with select_one_from_file.",
    "csv-external": "Attach the CSV with select_one_from_file, or use a choice list.",
    "begin_loop": "Use begin_repeat, or one group per item of the list.",
    "end_loop": "Use end_repeat.",
}
# pyxform's type aliases (its question_type_dictionary and aliases modules), lower-case with
# single spaces, to the type they stand for here.
TYPE_ALIASES: dict[str, str] = {
    **dict.fromkeys(("string", "q string", "add text prompt", "phone number"), "text"),
    **dict.fromkeys(("int", "q int", "add integer prompt"), "integer"),
    **dict.fromkeys(("q decimal", "add decimal prompt"), "decimal"),
    **dict.fromkeys(("q date", "add date prompt"), "date"),
    **dict.fromkeys(
        ("datetime", "q datetime", "add datetime prompt", "add date time prompt"), "datetime"
    ),
    **dict.fromkeys(("q note", "add note prompt"), "note"),
    **dict.fromkeys(("q calculate", "add calculate prompt"), "calculate"),
    **dict.fromkeys(("trigger", "q acknowledge", "add acknowledge prompt"), "acknowledge"),
    **dict.fromkeys(
        ("gps", "location", "q location", "q geopoint", "add location prompt"), "geopoint"
    ),
    **dict.fromkeys(
        (
            "select one",
            "select1",
            "select one from",
            "select one using",
            "add select one prompt using",
            "q select1",
        ),
        "select_one",
    ),
    **dict.fromkeys(
        (
            "select all that apply",
            "select all that apply from",
            "select multiple",
            "select multiple from",
            "select multiple using",
            "add select multiple prompt using",
            "q select",
        ),
        "select_multiple",
    ),
    "select one from file": "select_one_from_file",
    "select multiple from file": "select_multiple_from_file",
    "select one external": "select_one_external",
    "select multiple external": "select_multiple_external",
    **dict.fromkeys(("start time", "starttime", "get start time"), "start"),
    **dict.fromkeys(("end time", "endtime", "get end time"), "end"),
    "get today": "today",
    **dict.fromkeys(("imei", "get device id", "uri:deviceid"), "deviceid"),
    **dict.fromkeys(("get subscriber id", "uri:subscriberid"), "subscriberid"),
    **dict.fromkeys(("sim id", "simid", "get sim id", "uri:simserial"), "simserial"),
    **dict.fromkeys(("get phone number", "uri:phonenumber"), "phonenumber"),
    "uri:username": "username",
    "uri:email": "email",
    **dict.fromkeys(
        ("photo", "q picture", "q image", "add image prompt", "add photo prompt"), "image"
    ),
    **dict.fromkeys(("q audio", "add audio prompt"), "audio"),
    **dict.fromkeys(("q video", "add video prompt"), "video"),
    **dict.fromkeys(("q barcode", "add barcode prompt"), "barcode"),
    **dict.fromkeys(("add file prompt",), "file"),
    **dict.fromkeys(("q geoshape",), "geoshape"),
    **dict.fromkeys(("q geotrace",), "geotrace"),
    **dict.fromkeys(("begin lgroup", "begin looped group"), "begin_repeat"),
    **dict.fromkeys(("end lgroup", "end looped group"), "end_repeat"),
}
_LONGEST_ALIAS = max(len(alias.split()) for alias in TYPE_ALIASES)
TRANSLATABLE = ("label", "hint", "required_message", "constraint_message")
LOGIC_COLUMNS = (
    "required",
    "relevant",
    "constraint",
    "calculation",
    "choice_filter",
    "repeat_count",
)
PLAIN_COLUMNS = (
    "default",
    "read_only",
    "appearance",
    "parameters",
    "identifier",
)
SURVEY_COLUMNS = frozenset({"type", "name", *TRANSLATABLE, *LOGIC_COLUMNS, *PLAIN_COLUMNS})
# Columns of XLSForm (ODK, Kobo) that accessgap does not implement. Those that change what is
# asked or stored are errors; the others (media, display hints) are ignored with a warning.
UNSUPPORTED_LOGIC_COLUMNS = frozenset({"trigger", "body::accept", "bind::jr:preload"})
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
        "set_form_id",
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
OTHER_LABELS = {
    "en": ("Other", "Please specify"),
    "fr": ("Autre", "Veuillez préciser"),
    "es": ("Otro", "Especifique"),
    "it": ("Altro", "Specificare"),
    "el": ("Άλλο", "Διευκρινίστε"),
    "sl": ("Drugo", "Navedite"),
    "da": ("Andet", "Angiv venligst"),
    "no": ("Annet", "Vennligst spesifiser"),
    "nb": ("Annet", "Vennligst spesifiser"),
}
"""The texts ``or_other`` generates: the choice's label and the follow-up question's label."""
GENERATED_OTHER_SUFFIX = "_other"
MATRIX_SEPARATOR = "__"


@dataclass(frozen=True)
class ParsedType:
    base: str
    list_name: str | None = None
    or_other: bool = False
    alias: str | None = None  # the pyxform alias the row was written with, if any


_TYPE_WORDS = frozenset(
    {
        "select_one",
        "select_multiple",
        "begin_group",
        "end_group",
        "begin_repeat",
        "end_repeat",
        "select_one_from_file",
        "select_multiple_from_file",
        "select_one_external",
        "select_multiple_external",
    }
)
_WITH_LIST = frozenset({"select_one", "select_multiple", *FILE_SELECT_TYPES})


def parse_type(text: str) -> ParsedType:
    """``select one yes_no or_other``, ``select one from yes_no`` and ``select_one yes_no
    or_other`` are the same type; pyxform's other aliases (``int``, ``gps``...) likewise."""
    words = text.strip().split()
    if not words:
        return ParsedType("")
    base, rest, alias = words[0].lower(), words[1:], None
    for size in range(min(_LONGEST_ALIAS, len(words)), 0, -1):
        phrase = " ".join(words[:size]).lower()
        if phrase in TYPE_ALIASES:
            base, rest, alias = TYPE_ALIASES[phrase], words[size:], phrase
            break
        if "_".join(words[:size]).lower() in _TYPE_WORDS:
            base, rest = "_".join(words[:size]).lower(), words[size:]
            break
    if base in _WITH_LIST:
        list_name = rest[0] if rest else None
        or_other = len(rest) > 1 and rest[1].lower() == "or_other"
        return ParsedType(base, list_name, or_other, alias)
    return ParsedType(base, None, False, alias)


def file_list_name(file_name: str) -> str:
    """The choice list an attached CSV becomes: ``health facilities.csv`` is
    ``health_facilities``."""
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", stem).strip("_") or "file"
    return cleaned if _is_name_start(cleaned[0]) else f"_{cleaned}"


def _is_name_start(char: str) -> bool:
    return char.isalpha() or char == "_"


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


def form_id_of(tables: FormTables) -> str:
    """``form_id`` (or pyxform's ``id_string``), else the file name without its extension, as
    pyxform derives it (made a valid name: ``Facility survey.xlsx`` is ``Facility_survey``)."""
    declared = tables.settings.get("form_id") or tables.settings.get("id_string", "")
    if declared:
        return declared
    if "." in tables.source and not tables.source.endswith((".yaml", ".yml")):
        return file_list_name(tables.source)
    return ""


def _settings(tables: FormTables, default: str) -> dict[str, Any]:
    title: dict[str, str] = {}
    for key, value in tables.settings.items():
        base, language = split_column(key)
        if base in {"title", "form_title", "title_translation"}:
            title[language or default] = value
    form_id = form_id_of(tables)
    return {
        "form_id": form_id,
        "version": tables.settings.get("version", ""),
        "title": title,
        "default_language": default,
        "domain": tables.settings.get("domain") or None,
    }


def _survey_row(row: Row, default: str) -> dict[str, Any]:
    parsed = parse_type(row.get("type"))
    item: dict[str, Any] = {
        "type": FILE_SELECT_TYPES.get(parsed.base, parsed.base),
        "name": row.get("name"),
    }
    if parsed.base in {"select_one_from_file", "select_multiple_from_file"} and parsed.list_name:
        item["list_name"] = file_list_name(parsed.list_name)
    elif parsed.list_name:
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
    for list_name, rows in external_lists(tables).items():
        for row in rows:
            choice = {"name": row.get("name"), "label": texts(row, "label", default)}
            filters = {
                column: value
                for column, value in row.cells.items()
                if split_column(column)[0] not in _CHOICE_KNOWN
            }
            if filters:
                choice["filters"] = filters
            lists.setdefault(list_name, []).append(choice)
    return lists


def external_lists(tables: FormTables) -> dict[str, list[Row]]:
    """Choice lists that live outside the choices sheet, as rows with ``name`` and ``label``:
    the CSV files of ``select_*_from_file`` rows (``parameters: value=code label=title`` pick
    other columns, as in pyxform) and the ``external_choices`` sheet (or an attached
    ``itemsets.csv``) of ``select_*_external`` rows."""
    lists: dict[str, list[Row]] = {}
    for row in tables.survey:
        parsed = parse_type(row.get("type"))
        if parsed.base in {"select_one_from_file", "select_multiple_from_file"}:
            file_rows = tables.attachments.get(parsed.list_name or "")
            if file_rows is None:
                continue
            params = dict(
                part.split("=", 1) for part in row.get("parameters").split() if "=" in part
            )
            value, label = params.get("value", "name"), params.get("label", "label")
            lists[file_list_name(parsed.list_name or "")] = [
                Row(
                    r.number,
                    {
                        **{k: v for k, v in r.cells.items() if k not in {value, label}},
                        "name": r.get(value),
                        "label": r.get(label) or r.get(value),
                    },
                )
                for r in file_rows
            ]
    external = tables.external_choices or tables.attachments.get("itemsets.csv", [])
    for row in external:
        list_name = row.get("list_name")
        if list_name:
            lists.setdefault(list_name, []).append(
                Row(row.number, {k: v for k, v in row.cells.items() if k != "list_name"})
            )
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
    definition: dict[str, Any] = {
        "settings": _settings(tables, default),
        "languages": languages,
        "survey": [_survey_row(row, default) for row in tables.survey],
        "choices": _choices(tables, default),
        "indicators": [_indicator(row, default) for row in tables.indicators],
    }
    _fold_spelled_out_other(definition)
    if not definition["settings"]["version"]:
        # pyxform needs no version; a stored version needs one, so it comes from the content:
        # the same form gives the same version, any change a new one.
        definition["settings"]["version"] = content_hash(definition)[:VERSION_DIGITS]
    return definition


VERSION_DIGITS = 12


def other_texts(languages: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The labels ``or_other`` generates in each language: of the choice, of the question."""
    found = [OTHER_LABELS.get(language, OTHER_LABELS["en"]) for language in languages]
    return (
        {lang: texts[0] for lang, texts in zip(languages, found, strict=True)},
        {lang: texts[1] for lang, texts in zip(languages, found, strict=True)},
    )


def other_relevance(name: str) -> str:
    return f"selected(${{{name}}}, 'other')"


def _fold_spelled_out_other(definition: dict[str, Any]) -> None:
    """An ``or_other`` that export spelled out (so that ODK and Kobo show it translated: the
    ``other`` choice and the ``NAME_other`` question, with exactly the generated texts) is
    read back as ``or_other``, so that export and import give the same definition."""
    choice_label, question_label = other_texts(definition["languages"])
    survey: list[dict[str, Any]] = definition["survey"]
    folded_lists: set[str] = set()
    kept_lists: set[str] = set()
    index = 0
    while index < len(survey):
        item = survey[index]
        follow = survey[index + 1] if index + 1 < len(survey) else {}
        list_name = item.get("list_name")
        spelled = (
            item["type"] in {"select_one", "select_multiple"}
            and not item.get("or_other")
            and follow.get("type") == "text"
            and follow.get("name") == f"{item.get('name')}{GENERATED_OTHER_SUFFIX}"
            and follow.get("relevant") == other_relevance(item.get("name", ""))
            and follow.get("required") == "yes"
            and follow.get("label") == question_label
            and set(follow) == {"type", "name", "label", "relevant", "required"}
            and any(
                c["name"] == "other" and c["label"] == choice_label and not c.get("filters")
                for c in definition["choices"].get(list_name, [])
            )
        )
        if spelled:
            item["or_other"] = True
            del survey[index + 1]
            folded_lists.add(str(list_name))
        elif list_name:
            kept_lists.add(list_name)
        index += 1
    for list_name in folded_lists - kept_lists:
        definition["choices"][list_name] = [
            c for c in definition["choices"][list_name] if c["name"] != "other"
        ]


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
