"""The tables and variables of an export, derived from the questionnaire versions it holds.

One **main table** per questionnaire (one row per response) and one table per **repeat** (one
row per repeat row), joined by ``response_key`` and ``row_index`` (a nested repeat also carries
``parent_row_index``, the ``row_index`` of its parent table's row). When an export holds several
versions of a questionnaire, its columns are the union: the newest version's order first, then
questions only older versions had (a deleted question's data is never hidden).

``select_multiple`` gives a raw column (the chosen codes, space separated as XLSForm stores them)
and one 0/1 column per choice named ``question/choice`` (the ODK and KoboToolbox convention); a
flag is blank, not 0, when the question was not answered. Pseudonymised exports leave out every
question marked ``identifier`` (and the ``_other`` text and matrix cells that belong to one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from surveys.privacy import (
    IDENTIFYING_METADATA,
    QUESTIONNAIRE_IDENTIFIERS,
    questionnaire_identifiers,
)
from surveys.questionnaires.definitions.compiled import Choice, CompiledForm, Question
from surveys.questionnaires.definitions.model import GENERATED_OTHER_SUFFIX

NUMBER_KINDS = frozenset({"integer", "decimal", "range"})
TEXT_KINDS = frozenset({"text", "acknowledge"})
RECORDED_TIMES = frozenset({"start", "end"})
"""Metadata recorded as timestamps (written as UTC ``...Z``, a Table Schema datetime)."""
_RESOURCE_UNSAFE = re.compile(r"[^a-z0-9._-]+")


@dataclass
class Variable:
    """One column: where its values come from and how the codebook describes it."""

    name: str
    kind: str  # key | integer | decimal | range | date | text | acknowledge | calculate
    #            | start | end | today and the other metadata rows
    #            | select_one | select_multiple | choice (a 0/1 flag of one select_multiple choice)
    question: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    choices: list[Choice] = field(default_factory=list)
    choice: str | None = None
    question_type: str = ""
    relevant: str = ""
    constraint: str = ""
    required: str = ""
    key_type: str = "string"  # the data type of a key column

    @property
    def data_type(self) -> str:
        """The Table Schema type of the column when values are codes."""
        if self.kind == "key":
            return self.key_type
        if self.kind == "integer" or self.kind == "choice":
            return "integer"
        if self.kind in {"decimal", "range"}:
            return "number"
        if self.kind in {"date", "today"}:
            return "date"
        if self.kind in RECORDED_TIMES:
            return "datetime"
        if self.kind == "calculate":
            return "any"
        return "string"

    def choice_label(self, code: str, language: str, default: str) -> str:
        for choice in self.choices:
            if choice.name == code:
                return label_in(choice.label, language, default) or code
        return code


@dataclass
class Table:
    """A main table (``repeat_path == ()``) or the table of one repeat."""

    name: str
    questionnaire: str
    questionnaire_id: int
    repeat_path: tuple[str, ...]
    languages: list[str]
    default_language: str
    keys: list[Variable]
    variables: list[Variable] = field(default_factory=list)
    title: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[Variable]:
        return self.keys + self.variables

    @property
    def is_main(self) -> bool:
        return not self.repeat_path

    @property
    def parent_name(self) -> str | None:
        if not self.repeat_path:
            return None
        return table_name(self.questionnaire, self.repeat_path[:-1])


@dataclass(frozen=True)
class VersionForm:
    """A questionnaire version in an export, compiled."""

    questionnaire_id: int
    form_id: str
    version_id: int
    version: str
    form: CompiledForm


def label_in(texts: dict[str, str], language: str, default: str) -> str:
    return texts.get(language) or texts.get(default) or next(iter(texts.values()), "")


def table_name(form_id: str, repeat_path: tuple[str, ...]) -> str:
    """A file and Frictionless resource name: lower case letters, digits, ``._-``."""
    raw = "__".join((form_id, *repeat_path))
    return _RESOURCE_UNSAFE.sub("_", raw.lower()).strip("_") or "table"


def _key(name: str, label: str, key_type: str = "string") -> Variable:
    return Variable(name=name, kind="key", labels={"en": label}, key_type=key_type)


def main_keys(*, identified: bool) -> list[Variable]:
    keys = [
        _key("response_key", "Response key (pseudonymous unless the export is identified)"),
        _key("campaign", "Campaign"),
        _key("centre", "Centre pseudonym (HMAC-SHA256 of the centre id), or its id"),
    ]
    if identified:
        keys.append(_key("centre_name", "Centre name (identified exports only)"))
    return [
        *keys,
        _key("country", "Country (ISO 3166-1 alpha-2)"),
        _key("region", "NUTS region of the centre"),
        _key("questionnaire", "Questionnaire (form id)"),
        _key("version", "Questionnaire version"),
        _key("status", "Response status (submitted or approved)"),
        _key("submitted_at", "Submitted at (UTC)", "datetime"),
    ]


def repeat_keys(nested: bool) -> list[Variable]:
    keys = [
        _key("response_key", "Response key: joins the main table"),
        _key("row_index", "Row number within the response (1, 2, ...)", "integer"),
    ]
    if nested:
        keys.append(_key("parent_row_index", "row_index of the parent repeat's row", "integer"))
    return keys


def identifier_names(form: CompiledForm) -> set[str]:
    """Questions holding personal data: flagged in the form, or in the privacy catalogue."""
    names = {q.name for q in form.walk() if q.identifier or q.kind in IDENTIFYING_METADATA}
    names |= questionnaire_identifiers(form.definition.get("survey", []))
    names |= set(QUESTIONNAIRE_IDENTIFIERS)
    return names


def _is_identifier(question: Question, names: set[str]) -> bool:
    if question.name in names:
        return True
    if question.matrix_cell is not None and question.matrix_cell[0] in names:
        return True
    return (
        question.generated
        and question.name.endswith(GENERATED_OTHER_SUFFIX)
        and question.name.removesuffix(GENERATED_OTHER_SUFFIX) in names
    )


def _question_type(question: Question) -> str:
    source: dict[str, Any] = question.source_json
    kind = str(source.get("type", question.kind))
    if question.list_name and question.kind.startswith("select"):
        kind = f"{question.kind} {question.list_name}"
    return kind


class _Builder:
    """Collects the tables of one questionnaire across its versions (newest first)."""

    def __init__(self, form_id: str, questionnaire_id: int, *, identified: bool) -> None:
        self.form_id = form_id
        self.questionnaire_id = questionnaire_id
        self.identified = identified
        self.tables: dict[tuple[str, ...], Table] = {}
        self.index: dict[tuple[tuple[str, ...], str], Variable] = {}

    def table(self, path: tuple[str, ...], form: CompiledForm, title: dict[str, str]) -> Table:
        found = self.tables.get(path)
        if found is None:
            keys = main_keys(identified=self.identified) if not path else repeat_keys(len(path) > 1)
            found = Table(
                name=table_name(self.form_id, path),
                questionnaire=self.form_id,
                questionnaire_id=self.questionnaire_id,
                repeat_path=path,
                languages=list(form.languages),
                default_language=form.default_language,
                keys=keys,
                title=title,
            )
            self.tables[path] = found
        else:
            found.languages += [lang for lang in form.languages if lang not in found.languages]
        return found

    def add(self, form: CompiledForm) -> None:
        excluded = set() if self.identified else identifier_names(form)
        title = dict(form.definition["settings"].get("title") or {})
        self.table((), form, title)
        self._visit(form, form.questions, (), excluded, title)

    def _visit(
        self,
        form: CompiledForm,
        questions: list[Question],
        path: tuple[str, ...],
        excluded: set[str],
        title: dict[str, str],
    ) -> None:
        for question in questions:
            if _is_identifier(question, excluded):
                continue
            if question.kind == "group":
                self._visit(form, question.children, path, excluded, title)
            elif question.kind == "repeat":
                inner = (*path, question.name)
                repeat_title = dict(question.label)
                self.table(inner, form, repeat_title or title)
                self._visit(form, question.children, inner, excluded, title)
            elif question.kind != "note":
                self._add_question(form, question, path)

    def _variable(self, path: tuple[str, ...], variable: Variable) -> Variable:
        existing = self.index.get((path, variable.name))
        if existing is None:
            self.tables[path].variables.append(variable)
            self.index[(path, variable.name)] = variable
            return variable
        known = {c.name for c in existing.choices}
        existing.choices += [c for c in variable.choices if c.name not in known]
        for lang, text in variable.labels.items():
            existing.labels.setdefault(lang, text)
        return existing

    def _add_question(self, form: CompiledForm, question: Question, path: tuple[str, ...]) -> None:
        source = question.source_json
        choices = form.options(question) if question.kind.startswith("select") else []
        required = question.required
        variable = Variable(
            name=question.name,
            kind=question.kind,
            question=question.name,
            labels=dict(question.label),
            choices=list(choices),
            question_type=_question_type(question),
            relevant=str(source.get("relevant", "")),
            constraint=str(source.get("constraint", "")),
            required="yes" if required is True else str(source.get("required", "") or ""),
        )
        merged = self._variable(path, variable)
        if question.kind != "select_multiple":
            return
        for choice in merged.choices:
            labels = {
                lang: f"{text}: {label_in(choice.label, lang, form.default_language)}"
                for lang, text in merged.labels.items()
            }
            self._variable(
                path,
                Variable(
                    name=f"{question.name}/{choice.name}",
                    kind="choice",
                    question=question.name,
                    labels=labels,
                    choice=choice.name,
                    question_type=f"{merged.question_type} (choice {choice.name})",
                    relevant=merged.relevant,
                ),
            )


def build_tables(versions: list[VersionForm], *, identified: bool) -> list[Table]:
    """The export's tables: per questionnaire (in first-seen order) the main table, then repeats."""
    builders: dict[int, _Builder] = {}
    ordered = sorted(versions, key=lambda v: v.version_id, reverse=True)
    for version in ordered:
        builder = builders.get(version.questionnaire_id)
        if builder is None:
            builder = _Builder(version.form_id, version.questionnaire_id, identified=identified)
            builders[version.questionnaire_id] = builder
        builder.add(version.form)
    tables: list[Table] = []
    used: set[str] = set()
    for questionnaire_id in sorted(builders):
        for table in builders[questionnaire_id].tables.values():
            base, number = table.name, 2
            while table.name in used:
                table.name = f"{base}_{number}"
                number += 1
            used.add(table.name)
            tables.append(table)
    return tables


def languages_of(tables: list[Table]) -> list[str]:
    """Every label language of the export, the default languages first."""
    found: list[str] = []
    for table in tables:
        for lang in [table.default_language, *table.languages]:
            if lang not in found:
                found.append(lang)
    return found or ["en"]
