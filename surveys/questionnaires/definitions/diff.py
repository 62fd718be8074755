"""What changed between two versions of a questionnaire: questions, choices and settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMPARED_FIELDS = (
    "type",
    "list_name",
    "or_other",
    "label",
    "hint",
    "required",
    "required_message",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "default",
    "read_only",
    "choice_filter",
    "appearance",
    "parameters",
    "identifier",
)


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass
class DefinitionDiff:
    added_questions: list[str] = field(default_factory=list)
    removed_questions: list[str] = field(default_factory=list)
    changed_questions: dict[str, list[FieldChange]] = field(default_factory=dict)
    added_choices: dict[str, list[str]] = field(default_factory=dict)
    removed_choices: dict[str, list[str]] = field(default_factory=dict)
    changed_choices: dict[str, list[str]] = field(default_factory=dict)
    changed_settings: list[FieldChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(
            (
                self.added_questions,
                self.removed_questions,
                self.changed_questions,
                self.added_choices,
                self.removed_choices,
                self.changed_choices,
                self.changed_settings,
            )
        )

    def lines(self) -> list[str]:
        """A readable account of the changes, one line each."""
        out = [f"+ question {name}" for name in self.added_questions]
        out += [f"- question {name}" for name in self.removed_questions]
        for name, changes in self.changed_questions.items():
            out += [f"~ question {name}: {c.field} {c.before!r} -> {c.after!r}" for c in changes]
        for kind, sign in (("added", "+"), ("removed", "-"), ("changed", "~")):
            for list_name, names in getattr(self, f"{kind}_choices").items():
                out += [f"{sign} choice {list_name}/{name}" for name in names]
        out += [f"~ setting {c.field}: {c.before!r} -> {c.after!r}" for c in self.changed_settings]
        return out


def _questions(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in definition["survey"] if row.get("name")}


def diff_definitions(before: dict[str, Any], after: dict[str, Any]) -> DefinitionDiff:
    """The changes that turn ``before`` into ``after``."""
    diff = DefinitionDiff()
    old, new = _questions(before), _questions(after)
    diff.added_questions = [name for name in new if name not in old]
    diff.removed_questions = [name for name in old if name not in new]
    for name in new.keys() & old.keys():
        changes = [
            FieldChange(f, old[name].get(f), new[name].get(f))
            for f in COMPARED_FIELDS
            if old[name].get(f) != new[name].get(f)
        ]
        if changes:
            diff.changed_questions[name] = changes
    diff.changed_questions = dict(sorted(diff.changed_questions.items()))
    for list_name in sorted(before["choices"].keys() | after["choices"].keys()):
        old_choices = {c["name"]: c for c in before["choices"].get(list_name, [])}
        new_choices = {c["name"]: c for c in after["choices"].get(list_name, [])}
        added = [n for n in new_choices if n not in old_choices]
        removed = [n for n in old_choices if n not in new_choices]
        changed = sorted(
            n for n in new_choices.keys() & old_choices.keys() if new_choices[n] != old_choices[n]
        )
        for bucket, names in (
            (diff.added_choices, added),
            (diff.removed_choices, removed),
            (diff.changed_choices, changed),
        ):
            if names:
                bucket[list_name] = names
    for key in sorted(before["settings"].keys() | after["settings"].keys()):
        if key != "version" and before["settings"].get(key) != after["settings"].get(key):
            diff.changed_settings.append(
                FieldChange(key, before["settings"].get(key), after["settings"].get(key))
            )
    return diff
