"""Whether an indicator means the same in two questionnaire versions: pure, definitions in.

Two campaigns of the same questionnaire are survey waves; an indicator's change between them
means something only where the indicator and every question it reads are the same in both
versions. What it reads: the questions of its numerator, the questions whose relevance decides
whether they were asked, and the questions those conditions read
(:attr:`mapping.indicators.IndicatorSpec.asked_when`). The version diff
(:func:`surveys.questionnaires.definitions.diff.diff_definitions`) says what changed; a change of
wording only (label, hint, messages, appearance) keeps the figures comparable, every other
change (type, choice list, relevance, constraint, calculation, a choice added or removed...)
does not, and the reason says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mapping.indicators import IndicatorSpec
from surveys.questionnaires.definitions.diff import diff_definitions
from surveys.questionnaires.expressions import parse, references

WORDING_FIELDS = frozenset(
    {"label", "hint", "constraint_message", "required_message", "appearance"}
)
"""Fields whose change does not change what an answer counts."""
DECLARATION_FIELDS = ("numerator", "aggregation", "denominator")


@dataclass(frozen=True)
class Comparability:
    """Whether an indicator compares between two versions, and every reason it does not."""

    comparable: bool
    reasons: tuple[str, ...] = ()

    @property
    def explanation(self) -> str:
        """One sentence for a page or a report."""
        if self.comparable:
            return "The indicator and the questions it reads are the same in both waves."
        return "Not comparable: " + "; ".join(self.reasons) + "."


def questions_read(definition: Mapping[str, Any], indicator: str) -> set[str]:
    """The questions an indicator's figure depends on: its numerator's and their conditions'.

    Examples
    --------
    >>> definition = {"settings": {"form_id": "f"}, "survey": [
    ...     {"type": "select_one yn", "name": "has"},
    ...     {"type": "integer", "name": "units", "relevant": "${has} = 'yes'"}],
    ...     "indicators": [{"id": "u", "numerator": "${units}", "aggregation": "sum",
    ...                     "denominator": "none"}]}
    >>> sorted(questions_read(definition, "u"))
    ['has', 'units']
    """
    item = _declared(definition, indicator)
    if item is None:
        return set()
    spec = IndicatorSpec.from_definition(
        definition["settings"]["form_id"], item, definition.get("survey", [])
    )
    names = references(parse(spec.numerator, question=spec.id)) | set(spec.asked_when)
    for conditions in spec.asked_when.values():
        for condition in conditions:
            names |= references(parse(condition, question=spec.id))
    return names


def indicator_comparability(
    before: Mapping[str, Any], after: Mapping[str, Any], indicator: str
) -> Comparability:
    """Whether ``indicator`` compares between the versions ``before`` and ``after``.

    Examples
    --------
    >>> v1 = {"settings": {"form_id": "f", "version": "1"}, "choices": {}, "survey": [
    ...     {"type": "integer", "name": "units", "label": {"en": "Units"}}],
    ...     "indicators": [{"id": "u", "numerator": "${units}", "aggregation": "sum",
    ...                     "denominator": "none"}]}
    >>> v2 = {**v1, "settings": {"form_id": "f", "version": "2"}, "survey": [
    ...     {"type": "decimal", "name": "units", "label": {"en": "Units"}}]}
    >>> indicator_comparability(v1, v1, "u").comparable
    True
    >>> indicator_comparability(v1, v2, "u").reasons
    ("question 'units' changed its type ('integer' -> 'decimal')",)
    """
    old, new = _declared(before, indicator), _declared(after, indicator)
    if old is None or new is None:
        which = "earlier" if old is None else "later"
        return Comparability(False, (f"the {which} wave's questionnaire does not declare it",))
    reasons = [
        f"its {name} changed ({old.get(name)!r} -> {new.get(name)!r})"
        for name in DECLARATION_FIELDS
        if old.get(name) != new.get(name)
    ]
    if before == after:
        return Comparability(not reasons, tuple(reasons))
    diff = diff_definitions(dict(before), dict(after))
    read = questions_read(before, indicator) | questions_read(after, indicator)
    lists: dict[str, str] = {}
    for definition in (before, after):
        for row in definition.get("survey", []):
            if row.get("name") in read and row.get("list_name"):
                lists[str(row["list_name"])] = str(row["name"])
    for name in sorted(read):
        if name in diff.removed_questions:
            reasons.append(f"question {name!r} is not in the later version")
        elif name in diff.added_questions:
            reasons.append(f"question {name!r} is new in the later version")
        for change in diff.changed_questions.get(name, []):
            if change.field not in WORDING_FIELDS:
                reasons.append(
                    f"question {name!r} changed its {change.field} "
                    f"({change.before!r} -> {change.after!r})"
                )
    for list_name, question in sorted(lists.items()):
        for kind, bucket in (
            ("added", diff.added_choices),
            ("removed", diff.removed_choices),
            ("changed", diff.changed_choices),
        ):
            names = bucket.get(list_name, [])
            changed = [
                n
                for n in names
                if kind != "changed" or _choice_meaning_changed(before, after, list_name, n)
            ]
            if changed:
                reasons.append(
                    f"the choices of {question!r} ({list_name}) {kind}: {', '.join(changed)}"
                )
    return Comparability(not reasons, tuple(reasons))


def _declared(definition: Mapping[str, Any], indicator: str) -> dict[str, Any] | None:
    return next(
        (dict(i) for i in definition.get("indicators", []) if i.get("id") == indicator), None
    )


def _choice_meaning_changed(
    before: Mapping[str, Any], after: Mapping[str, Any], list_name: str, name: str
) -> bool:
    """A choice whose label alone changed means the same; any other field counts."""

    def fields(definition: Mapping[str, Any]) -> dict[str, Any]:
        choice = next(c for c in definition["choices"][list_name] if c["name"] == name)
        return {k: v for k, v in choice.items() if k not in WORDING_FIELDS}

    return fields(before) != fields(after)
