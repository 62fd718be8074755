"""The Frictionless data package: ``datapackage.json``, one CSV per table, and the codebook.

Each table is a tabular data resource with a Table Schema: field types, titles in the chosen
language, ``enum`` constraints for choices, the primary key (``response_key``, plus
``row_index`` for repeat tables) and foreign keys from repeat tables to their parents. The
descriptor is written after the CSVs, so each resource carries its ``bytes`` and its
``hash`` (``sha256:...``), which ``frictionless validate`` checks.

The codebook (``codebook.csv``, also a resource) has one row per variable: its table, name, the
name it has in the file (SPSS/Stata names differ, see :mod:`surveys.exports.spss_stata`), the
source question, the XLSForm type and the data type, the label and the choices in every language
of the export, and the constraint, relevance and required expressions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from surveys.exports.schemas import ManifestFile
from surveys.exports.variables import Table, Variable, label_in
from surveys.tabular import neutralise_formula

REQUIRED_KEYS = frozenset(
    {"response_key", "row_index", "campaign", "centre", "country", "questionnaire", "version"}
)
_PACKAGE_UNSAFE = re.compile(r"[^a-z0-9._-]+")
CODEBOOK_PATH = "codebook.csv"


def data_path(table: Table) -> str:
    return f"data/{table.name}.csv"


def package_name(text: str) -> str:
    return _PACKAGE_UNSAFE.sub("-", text.lower()).strip("-") or "accessgap-export"


def _description(variable: Variable) -> str:
    parts = []
    if variable.question_type:
        parts.append(f"XLSForm type: {variable.question_type}.")
    if variable.relevant:
        parts.append(f"Asked when: {variable.relevant}.")
    if variable.constraint:
        parts.append(f"Constraint: {variable.constraint}.")
    return " ".join(parts)


def field_descriptor(
    variable: Variable, *, labels: bool, language: str, default_language: str
) -> dict[str, Any]:
    """A Table Schema field for the variable, as its values are written."""
    field_type = variable.data_type
    if labels and variable.kind == "select_one":
        field_type = "string"
    descriptor: dict[str, Any] = {
        "name": variable.name,
        "type": field_type,
        "title": label_in(variable.labels, language, default_language) or variable.name,
    }
    description = _description(variable)
    if description:
        descriptor["description"] = description
    constraints: dict[str, Any] = {}
    if variable.kind == "key" and variable.name in REQUIRED_KEYS:
        constraints["required"] = True
    if variable.kind == "choice":
        constraints["enum"] = [0, 1]
    elif variable.kind == "select_one" and variable.choices:
        values = [
            (label_in(c.label, language, default_language) or c.name) if labels else c.name
            for c in variable.choices
        ]
        constraints["enum"] = list(dict.fromkeys(neutralise_formula(v) for v in values))
    elif variable.kind == "key" and variable.name == "status":
        constraints["enum"] = ["submitted", "approved"]
    if constraints:
        descriptor["constraints"] = constraints
    return descriptor


def table_schema(
    table: Table, *, labels: bool, language: str | None, parents: dict[str, Table]
) -> dict[str, Any]:
    lang = language or table.default_language
    schema: dict[str, Any] = {
        "fields": [
            field_descriptor(
                v, labels=labels, language=lang, default_language=table.default_language
            )
            for v in table.columns
        ],
        "missingValues": [""],
        "primaryKey": ["response_key"] if table.is_main else ["response_key", "row_index"],
    }
    parent = parents.get(table.parent_name or "")
    if parent is not None:
        if parent.is_main:
            fields, referenced = ["response_key"], ["response_key"]
        else:
            fields, referenced = ["response_key", "parent_row_index"], ["response_key", "row_index"]
        schema["foreignKeys"] = [
            {"fields": fields, "reference": {"resource": parent.name, "fields": referenced}}
        ]
    return schema


def codebook_header(languages: list[str]) -> list[str]:
    return [
        "table",
        "variable",
        "file_variable",
        "questionnaire",
        "source_question",
        "question_type",
        "type",
        *[f"label_{lang}" for lang in languages],
        *[f"choices_{lang}" for lang in languages],
        "constraint",
        "relevance",
        "required",
    ]


def _choices_text(variable: Variable, language: str, default: str) -> str:
    if variable.kind == "choice":
        return "0=not selected | 1=selected"
    return " | ".join(f"{c.name}={label_in(c.label, language, default)}" for c in variable.choices)


def codebook_rows(
    tables: list[Table], languages: list[str], file_names: dict[tuple[str, str], str] | None = None
) -> Iterator[list[Any]]:
    """One row per variable of every table (keys included)."""
    for table in tables:
        default = table.default_language
        for variable in table.columns:
            file_variable = (file_names or {}).get((table.name, variable.name), variable.name)
            yield [
                table.name,
                variable.name,
                file_variable,
                table.questionnaire,
                variable.question or "",
                variable.question_type or "key",
                variable.data_type,
                *[label_in(variable.labels, lang, default) for lang in languages],
                *[_choices_text(variable, lang, default) for lang in languages],
                variable.constraint,
                variable.relevant,
                variable.required,
            ]


def codebook_schema(languages: list[str]) -> dict[str, Any]:
    return {
        "fields": [{"name": name, "type": "string"} for name in codebook_header(languages)],
        "missingValues": [""],
    }


def descriptor(
    *,
    name: str,
    title: str,
    version: str,
    created: str,
    tables: list[Table],
    files: dict[str, ManifestFile],
    labels: bool,
    language: str | None,
    languages: list[str],
    description: str,
) -> dict[str, Any]:
    """``datapackage.json`` for the files already written (their sizes and hashes known)."""
    parents = {t.name: t for t in tables}
    resources: list[dict[str, Any]] = []

    def resource(res_name: str, path: str, res_title: str, schema: dict[str, Any]) -> None:
        written = files[path]
        resources.append(
            {
                "name": res_name,
                "path": path,
                "title": res_title,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": written.bytes,
                "hash": f"sha256:{written.sha256}",
                "schema": schema,
            }
        )

    for table in tables:
        lang = language or table.default_language
        table_title = label_in(table.title, lang, table.default_language) or table.name
        resource(
            table.name,
            data_path(table),
            table_title,
            table_schema(table, labels=labels, language=language, parents=parents),
        )
    resource("codebook", CODEBOOK_PATH, "Codebook", codebook_schema(languages))
    return {
        "profile": "tabular-data-package",
        "name": package_name(name),
        "title": title_text(title),
        "version": version,
        "created": created,
        "description": description,
        "resources": resources,
    }


def title_text(text: str) -> str:
    return text.strip() or "accessgap export"
