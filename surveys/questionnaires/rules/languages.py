"""Languages: every text given in one language is given in all the form's languages."""

from __future__ import annotations

from collections.abc import Iterator

from surveys.questionnaires.definitions.model import METADATA_TYPES, TRANSLATABLE, split_column
from surveys.questionnaires.definitions.tables import Row
from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem

CODE = "definition.incomplete_language"


def _missing(row: Row, bases: tuple[str, ...], languages: list[str]) -> dict[str, list[str]]:
    present: dict[str, set[str]] = {}
    default = languages[0]
    for column in row.cells:
        base, language = split_column(column)
        if base in bases:
            present.setdefault(base, set()).add(language or default)
    return {
        base: [lang for lang in languages if lang not in have]
        for base, have in present.items()
        if any(lang not in have for lang in languages)
    }


UNLABELLED = frozenset({"end_group", "end_repeat", "calculate", ""}) | METADATA_TYPES


def check(context: RuleContext) -> Iterator[Problem]:
    yield from _labels(context)
    languages = context.languages
    if len(languages) < 2:
        return
    sheets = (
        ("survey", context.tables.survey, TRANSLATABLE),
        ("choices", context.tables.choices, ("label",)),
        ("indicators", context.tables.indicators, ("label", "unit")),
    )
    for sheet, rows, bases in sheets:
        for row in rows:
            for base, missing in _missing(row, bases, languages).items():
                yield Problem(
                    CODE,
                    sheet,
                    row.number,
                    base,
                    f"{base} has no {', '.join(missing)} translation.",
                    f"Add {', '.join(f'{base}::{m}' for m in missing)}; a form is "
                    "published only when every declared language is complete.",
                    "warning",
                )
    titles = {
        split_column(k)[1] or context.languages[0]
        for k in context.tables.settings
        if split_column(k)[0] in {"title", "form_title", "title_translation"}
    }
    missing_titles = [lang for lang in languages if lang not in titles] if titles else []
    if missing_titles:
        yield Problem(
            CODE,
            "settings",
            None,
            "title",
            f"The title has no {', '.join(missing_titles)} translation.",
            "Add title::LANG for each language.",
            "warning",
        )


def _labels(context: RuleContext) -> Iterator[Problem]:
    """The same in a form of one language and of many: a question needs a label (or a hint,
    as pyxform accepts); a group or repeat without one is only shown without a heading."""
    for row, parsed in context.questions():
        if parsed.base in UNLABELLED:
            continue
        if any(split_column(c)[0] in {"label", "hint"} for c in row.cells):
            continue
        if parsed.base in {"begin_group", "begin_repeat"}:
            yield Problem(
                "definition.missing_label",
                "survey",
                row.number,
                "label",
                f"The {parsed.base.removeprefix('begin_')} {row.get('name')!r} has no label; "
                "it is shown without a heading.",
                "Add a label in each language if respondents need one.",
                "warning",
            )
            continue
        yield Problem(
            "definition.missing_label",
            "survey",
            row.number,
            "label",
            f"The {parsed.base} {row.get('name')!r} has no label.",
            "Add a label in each language.",
        )
