"""A definition made ready to use: a tree of questions with their expressions parsed once.

Both the answer validation service and the pages read forms through :class:`CompiledForm`.
Generated fields are made here: ``or_other`` adds a choice ``other`` and a text question
``NAME_other``; a matrix group with ``parameters: columns=LIST`` turns each of its questions
into one cell per column, named ``QUESTION__COLUMN``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from surveys.questionnaires.definitions.model import (
    GENERATED_OTHER_SUFFIX,
    MATRIX_SEPARATOR,
    METADATA_TYPES,
    OTHER_LABELS,
    content_hash,
    is_true,
)
from surveys.questionnaires.expressions import Node, parse, references

CONTAINER_KINDS = frozenset({"group", "repeat"})


@dataclass
class Choice:
    name: str
    label: dict[str, str]
    filters: dict[str, str] = field(default_factory=dict)


@dataclass
class Question:
    """A question, a group or a repeat, with its logic parsed."""

    kind: str
    name: str
    label: dict[str, str] = field(default_factory=dict)
    hint: dict[str, str] = field(default_factory=dict)
    list_name: str | None = None
    or_other: bool = False
    required: Node | bool = False
    required_message: dict[str, str] = field(default_factory=dict)
    relevant: Node | None = None
    constraint: Node | None = None
    constraint_message: dict[str, str] = field(default_factory=dict)
    calculation: Node | None = None
    choice_filter: Node | None = None
    repeat_count: Node | None = None
    default: str = ""
    read_only: bool = False
    appearance: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    identifier: bool = False
    children: list[Question] = field(default_factory=list)
    repeat: str | None = None
    generated: bool = False
    matrix_cell: tuple[str, str] | None = None  # (row question, column choice) of a 2-D matrix
    source_json: dict[str, Any] = field(default_factory=dict)

    @property
    def is_matrix(self) -> bool:
        return self.kind == "group" and self.appearance.strip().lower() == "matrix"

    @property
    def takes_answer(self) -> bool:
        return self.kind not in {"group", "repeat", "note", "calculate", *METADATA_TYPES}

    @property
    def is_metadata(self) -> bool:
        """Recorded by the server when the response is submitted (start, end, today...)."""
        return self.kind in METADATA_TYPES

    def text(self, texts: dict[str, str], language: str, default: str) -> str:
        return texts.get(language) or texts.get(default) or next(iter(texts.values()), "")


def _parameters(text: str) -> dict[str, str]:
    pairs = (part.split("=", 1) for part in text.replace(";", " ").split() if "=" in part)
    return {key.strip().lower(): value.strip() for key, value in pairs}


def _expression(item: dict[str, Any], column: str) -> Node | None:
    text = item.get(column)
    if not text:
        return None
    return parse(text, question=item.get("name"), columns=column == "choice_filter")


def _required(item: dict[str, Any]) -> Node | bool:
    text = str(item.get("required", "")).strip()
    if not text or text.lower() in {"no", "false", "false()"}:
        return False
    if is_true(text):
        return True
    return parse(text, question=item.get("name"))


@dataclass
class CompiledForm:
    definition: dict[str, Any]
    questions: list[Question]
    choices: dict[str, list[Choice]]

    @property
    def form_id(self) -> str:
        return str(self.definition["settings"]["form_id"])

    @property
    def languages(self) -> list[str]:
        return list(self.definition["languages"])

    @property
    def default_language(self) -> str:
        return str(self.definition["settings"]["default_language"])

    def walk(self, questions: list[Question] | None = None) -> Iterator[Question]:
        for question in self.questions if questions is None else questions:
            yield question
            yield from self.walk(question.children)

    @cached_property
    def by_name(self) -> dict[str, Question]:
        return {q.name: q for q in self.walk() if q.name}

    @cached_property
    def calculation_order(self) -> list[Question]:
        """Calculate rows in an order where each comes after the calculations it reads."""
        calculations = [(q, q.calculation) for q in self.walk() if q.calculation is not None]
        names = {q.name for q, _ in calculations}
        ordered: list[Question] = []
        placed: set[str] = set()
        pending = list(calculations)
        while pending:
            progressed = False
            for question, node in list(pending):
                needs = (references(node) & names) - {question.name}
                if needs <= placed:
                    ordered.append(question)
                    placed.add(question.name)
                    pending.remove((question, node))
                    progressed = True
            if not progressed:  # a cycle: validation refuses it; never loop for ever
                ordered.extend(q for q, _ in pending)
                break
        return ordered

    def options(self, question: Question) -> list[Choice]:
        """The choices of a select question, with the generated "Other" when it has or_other."""
        choices = self.choices.get(question.list_name or "", [])
        if not question.or_other:
            return choices
        other = {lang: OTHER_LABELS.get(lang, OTHER_LABELS["en"])[0] for lang in self.languages}
        return [*[c for c in choices if c.name != "other"], Choice("other", other)]


def _build(items: list[dict[str, Any]], definition: dict[str, Any]) -> list[Question]:
    """Turn the flat rows into a tree, closing groups and repeats as they end."""
    root: list[Question] = []
    stack: list[Question] = []
    languages = definition["languages"]
    for item in items:
        kind = item["type"]
        if kind in {"end_group", "end_repeat"}:
            if stack:
                stack.pop()
            continue
        question = Question(
            kind=kind.removeprefix("begin_"),
            name=item.get("name", ""),
            label=dict(item.get("label", {})),
            hint=dict(item.get("hint", {})),
            list_name=item.get("list_name"),
            or_other=bool(item.get("or_other")),
            required=_required(item),
            required_message=dict(item.get("required_message", {})),
            relevant=_expression(item, "relevant"),
            constraint=_expression(item, "constraint"),
            constraint_message=dict(item.get("constraint_message", {})),
            calculation=_expression(item, "calculation"),
            choice_filter=_expression(item, "choice_filter"),
            repeat_count=_expression(item, "repeat_count"),
            default=str(item.get("default", "")),
            read_only=bool(item.get("read_only")),
            appearance=str(item.get("appearance", "")),
            parameters=_parameters(str(item.get("parameters", ""))),
            identifier=bool(item.get("identifier")),
            repeat=next((q.name for q in reversed(stack) if q.kind == "repeat"), None),
            source_json=item,
        )
        siblings = stack[-1].children if stack else root
        siblings.append(question)
        if question.or_other:
            siblings.append(_other_question(question, languages))
        if kind in {"begin_group", "begin_repeat"}:
            stack.append(question)
    for question in list(_all(root)):
        if question.is_matrix and "columns" in question.parameters:
            _expand_matrix(question, definition)
    return root


def _all(questions: list[Question]) -> Iterator[Question]:
    for question in questions:
        yield question
        yield from _all(question.children)


def _other_question(question: Question, languages: list[str]) -> Question:
    label = {lang: OTHER_LABELS.get(lang, OTHER_LABELS["en"])[1] for lang in languages}
    return Question(
        kind="text",
        name=question.name + GENERATED_OTHER_SUFFIX,
        label=label,
        relevant=parse(f"selected(${{{question.name}}}, 'other')"),
        required=True,
        repeat=question.repeat,
        generated=True,
    )


def _expand_matrix(group: Question, definition: dict[str, Any]) -> None:
    columns = definition["choices"].get(group.parameters["columns"], [])
    cells: list[Question] = []
    for row in group.children:
        if not row.takes_answer:
            cells.append(row)
            continue
        for column in columns:
            cell = Question(
                kind=row.kind,
                name=f"{row.name}{MATRIX_SEPARATOR}{column['name']}",
                label=row.label,
                hint=row.hint,
                required=row.required,
                required_message=row.required_message,
                relevant=row.relevant,
                constraint=row.constraint,
                constraint_message=row.constraint_message,
                repeat=row.repeat,
                generated=True,
                matrix_cell=(row.name, column["name"]),
            )
            cells.append(cell)
    group.children = cells


def compile_definition(definition: dict[str, Any]) -> CompiledForm:
    """Compile a canonical (validated) definition."""
    choices: dict[str, list[Choice]] = {
        list_name: [Choice(c["name"], dict(c["label"]), dict(c.get("filters", {}))) for c in items]
        for list_name, items in definition["choices"].items()
    }
    questions = _build(definition["survey"], definition)
    return CompiledForm(definition=definition, questions=questions, choices=choices)


_CACHE: dict[str, CompiledForm] = {}
_CACHE_SIZE = 64


def compiled_form(definition: dict[str, Any], digest: str | None = None) -> CompiledForm:
    """The compiled form of a definition, parsed once per content (versions are immutable).

    Submissions, saves and pages all need the compiled form; parsing every expression each time
    would dominate the cost of a submission. Pass the version's stored ``content_hash`` as
    ``digest`` to skip hashing the definition again.
    """
    digest = digest or content_hash(definition)
    found = _CACHE.get(digest)
    if found is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        found = _CACHE[digest] = compile_definition(definition)
    return found


class _StoredVersion(Protocol):
    content_hash: str
    definition: dict[str, Any]


def compiled_version(version: _StoredVersion) -> CompiledForm:
    """The compiled form of a stored version, touching its definition only on a cache miss.

    The respondent pages load versions with the definition deferred: decoding a large
    definition's JSON on every request cost more than the rest of the lookup.
    """
    found = _CACHE.get(version.content_hash)
    return found if found is not None else compiled_form(version.definition, version.content_hash)
