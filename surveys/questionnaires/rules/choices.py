"""Choice lists: every list a question names exists, and each choice has a unique name."""

from __future__ import annotations

from collections.abc import Iterator

from surveys.questionnaires.definitions.model import (
    external_lists,
    file_list_name,
    split_column,
)
from surveys.questionnaires.rules.context import RuleContext
from surveys.questionnaires.rules.result import Problem
from surveys.questionnaires.rules.types import parse_parameters


def check(context: RuleContext) -> Iterator[Problem]:
    lists: dict[str, dict[str, int]] = {}
    for row in context.tables.choices:
        list_name = row.get("list_name") or row.get("list name")
        name = row.get("name")
        if not list_name:
            yield Problem(
                "definition.choice_without_list",
                "choices",
                row.number,
                "list_name",
                "The choice has no list_name.",
                "Name the list it belongs to.",
            )
            continue
        if not name:
            yield Problem(
                "definition.choice_without_name",
                "choices",
                row.number,
                "name",
                f"A choice of list {list_name!r} has no name.",
                "Give every choice a name (the value stored in the data).",
            )
            continue
        if " " in name:
            yield Problem(
                "definition.choice_name_space",
                "choices",
                row.number,
                "name",
                f"The choice name {name!r} contains a space.",
                "Use underscores: select_multiple answers are space-separated.",
            )
        seen = lists.setdefault(list_name, {})
        if name in seen:
            yield Problem(
                "definition.duplicate_choice",
                "choices",
                row.number,
                "name",
                f"The choice {name!r} is already in list {list_name!r} (row {seen[name]}).",
                "Give each choice of a list a unique name.",
            )
        else:
            seen[name] = row.number
        if not any(split_column(c)[0] == "label" for c in row.cells):
            yield Problem(
                "definition.missing_label",
                "choices",
                row.number,
                "label",
                f"The choice {name!r} has no label.",
                "Add a label for each language.",
            )
    for list_name, rows in external_lists(context.tables).items():
        if list_name in lists and any(
            r.get("list_name") == list_name for r in context.tables.choices
        ):
            yield Problem(
                "definition.duplicate_choice_list",
                "survey",
                None,
                "type",
                f"The list {list_name!r} is both in the choices sheet and in an external file.",
                "Rename one of them.",
            )
        seen = lists.setdefault(list_name, {})
        for r in rows:
            seen.setdefault(r.get("name"), r.number)
    used: set[str] = set()
    for row, parsed in context.questions():
        wanted = parsed.list_name
        if parsed.base in {"select_one_from_file", "select_multiple_from_file"}:
            if not wanted or wanted not in context.tables.attachments:
                continue  # reported by the types rule
            wanted = file_list_name(wanted)
        column = "type"
        if parsed.base == "begin_group" and "columns" in parse_parameters(row.get("parameters")):
            wanted, column = parse_parameters(row.get("parameters"))["columns"], "parameters"
        if not wanted:
            continue
        used.add(wanted)
        if wanted not in lists:
            yield Problem(
                "definition.missing_choice_list",
                "survey",
                row.number,
                column,
                f"The choice list {wanted!r} does not exist.",
                f"Add rows with list_name {wanted} to the choices sheet.",
            )
        elif parsed.or_other and "other" in lists[wanted]:
            yield Problem(
                "definition.duplicate_choice",
                "survey",
                row.number,
                "type",
                f"or_other adds a choice 'other', but list {wanted!r} has one.",
                "Remove or_other, or the list's own 'other' choice.",
            )
    for list_name, choices in lists.items():
        if list_name not in used:
            yield Problem(
                "definition.unused_choice_list",
                "choices",
                min(choices.values()),
                "list_name",
                f"The choice list {list_name!r} is not used by any question.",
                "Remove it or use it.",
                "warning",
            )
