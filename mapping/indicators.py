"""Indicators per area from submitted responses: pure functions, frames in, frames out.

An indicator is declared beside its questions (``indicators`` sheet): a numerator expression
over a response's answers, an aggregation across the responding centres of an area, and a
denominator. The area's value is::

    sum            total of the numerator            / denominator
    count_yes      centres whose numerator is 'yes'  / denominator
    share          mean of the numerator read as 0/1 x 100 (per cent of responding centres)
    median, mean   of the numerator's numbers (blanks skipped); denominator ignored

with the denominator ``population_per_million`` (value per million inhabitants),
``new_cases_per_thousand`` (value per 1,000 new cancer cases a year, GLOBOCAN, per country: the
convention of radiotherapy capacity studies), ``centres_responding`` (per cent of responding
centres) or ``none``. Every value carries its denominator's source and year, and whether the
denominator is a stand-in for a missing official figure.

**A count the questionnaire skipped is zero.** A ``sum`` counts things (scanners, patients), and
the questionnaire asks for the count only when it applies (``pet_ct_units`` is relevant when
``${has_pet_ct} = 'yes'``). A centre that answered "no" (or "planned") was not asked and has
none: it contributes 0, not a blank, so its country keeps a value. A count that was asked and
left blank, or skipped because the question it depends on was not answered, stays missing. The
conditions come from the questionnaire (:attr:`IndicatorSpec.asked_when`), so stored versions
need no change. Medians and means are not affected: a centre without PET/CT has no waiting time.

Coverage is part of the result: ``expected`` centres (in the campaign), ``responding`` centres
(with a submitted response to the indicator's questionnaire), and ``low_coverage`` when fewer than
the threshold share responded. An area where no centre responded has no value (NaN): no data is
never shown as zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from surveys.questionnaires.answers import expression_context
from surveys.questionnaires.expressions import Node, as_number, evaluate, parse, references, truthy
from surveys.questionnaires.expressions.closures import compiled

AREA_COLUMNS = ["area_code", "area_name", "population", "population_source", "population_year"]
"""The columns ``areas`` needs; ``population_standin`` and the ``new_cases`` trio are optional."""
PER_UNIT = {"population_per_million": 1_000_000.0, "new_cases_per_thousand": 1_000.0}
"""The denominators that divide by a reference figure, and the scale of the rate."""
RESULT_COLUMNS = [
    "area_code",
    "area_name",
    "value",
    "numerator",
    "denominator",
    "denominator_kind",
    "denominator_source",
    "denominator_year",
    "denominator_standin",
    "expected",
    "responding",
    "coverage",
    "low_coverage",
    "no_data",
]


@dataclass(frozen=True)
class IndicatorSpec:
    """One declared indicator (see ``docs/questionnaires.md``).

    ``higher_is_better`` is the declaration's direction: waiting times declare
    ``higher_is_better: false`` (lower is better), which turns a shortfall to the benchmark into
    an excess over it. ``asked_when`` maps each question the numerator reads (and each question
    those conditions read) to its relevance conditions in the questionnaire, its own and its
    groups': see "A count the questionnaire skipped is zero" above.
    """

    id: str
    form_id: str
    numerator: str
    aggregation: str
    denominator: str
    label: Mapping[str, str]
    unit: Mapping[str, str]
    higher_is_better: bool = True
    benchmark: Mapping[str, Any] | None = None
    asked_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def lower_is_better(self) -> bool:
        """Whether lower values are better (waiting times)."""
        return not self.higher_is_better

    @classmethod
    def from_definition(
        cls,
        form_id: str,
        item: Mapping[str, Any],
        survey: Iterable[Mapping[str, Any]] = (),
    ) -> IndicatorSpec:
        """The indicator as a questionnaire version declares it; ``survey`` is the version's
        ``survey`` rows, where the numerator's questions and their conditions are found."""
        return cls(
            id=item["id"],
            form_id=form_id,
            numerator=item["numerator"],
            aggregation=item["aggregation"],
            denominator=item["denominator"],
            label=dict(item.get("label", {})),
            unit=dict(item.get("unit", {})),
            higher_is_better=bool(item.get("higher_is_better", True)),
            benchmark=item.get("benchmark"),
            asked_when=asked_when(
                survey, references(parse(item["numerator"], question=item["id"]))
            ),
        )


def asked_when(
    survey: Iterable[Mapping[str, Any]], names: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """The relevance conditions of the named questions, and of the questions they read.

    Each question's conditions are its enclosing groups' ``relevant`` and its own; the questions
    a condition reads are followed in turn, so a chain of skips (no functional screening, so no
    clinical use, so no patient count) is known. Questions without a condition are left out.

    Examples
    --------
    >>> survey = [
    ...     {"type": "select_one yes_no", "name": "has_pet"},
    ...     {"type": "begin_group", "name": "pet", "relevant": "${has_pet} = 'yes'"},
    ...     {"type": "integer", "name": "units", "relevant": "${units_known} = 'yes'"},
    ...     {"type": "end_group"},
    ... ]
    >>> asked_when(survey, ["units"])
    {'units': ("${has_pet} = 'yes'", "${units_known} = 'yes'")}
    """
    conditions: dict[str, tuple[str, ...]] = {}
    groups: list[tuple[str, ...]] = []
    for item in survey:
        kind = str(item.get("type", ""))
        if kind in {"end_group", "end_repeat"}:
            if groups:
                groups.pop()
            continue
        own = str(item.get("relevant") or "").strip()
        inherited = groups[-1] if groups else ()
        mine = (*inherited, own) if own else inherited
        if item.get("name") and mine:
            conditions[str(item["name"])] = mine
        if kind in {"begin_group", "begin_repeat"}:
            groups.append(mine)
    found: dict[str, tuple[str, ...]] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in found or name not in conditions:
            continue
        found[name] = conditions[name]
        for condition in conditions[name]:
            pending.extend(references(parse(condition, question=name)))
    return dict(sorted(found.items()))


def numerator_values(
    responses: pd.DataFrame,
    spec: IndicatorSpec,
    *,
    contexts: Sequence[Mapping[str, object]] | None = None,
) -> pd.Series:
    """The numerator of each response (``answers`` column of dicts), evaluated safely.

    For a ``sum``, a count the questionnaire did not ask (its condition is false on answered
    questions) is read as 0; see the module docstring. ``contexts`` are the responses'
    :func:`~surveys.questionnaires.answers.expression_context`, in order, when the caller
    shares them between the indicators of one questionnaire.

    Example
    -------
    >>> frame = pd.DataFrame({"answers": [{"units": 2}, {"units": ""}, {"has": "no"}, {}]})
    >>> spec = IndicatorSpec("u", "f", "${units}", "sum", "none", {}, {},
    ...                      asked_when={"units": ("${has} = 'yes'",)})
    >>> numerator_values(frame, spec).tolist()  # asked and blank; not asked; not answered
    [2.0, '', 0.0, '']
    """
    node = parse(spec.numerator, question=spec.id)
    counted = references(node)
    conditions = (
        {
            name: tuple(parse(c, question=name) for c in texts)
            for name, texts in spec.asked_when.items()
        }
        if spec.aggregation == "sum"
        else {}
    )
    if contexts is None:
        contexts = [expression_context(answers) for answers in responses["answers"]]
    values = []
    numerator = compiled(node)  # compiled once, run once per response
    for context in contexts:
        if conditions:
            skipped = {
                name: 0
                for name in counted
                if not _answered(context.get(name)) and _not_asked(name, context, conditions)
            }
            context = {**context, **skipped}
        values.append(numerator(context))
    return pd.Series(values, index=responses.index, dtype=object)


def _answered(value: object) -> bool:
    return value is not None and value != "" and value != []


def _not_asked(
    name: str,
    context: Mapping[str, object],
    conditions: Mapping[str, tuple[Node, ...]],
    seen: frozenset[str] = frozenset(),
) -> bool:
    """Whether the questionnaire skipped ``name``: one of its conditions is false, and every
    question that condition reads was answered (or was skipped in turn)."""
    if name in seen:  # cycles are refused when a form is loaded; never loop on one anyway
        return False
    seen = seen | {name}
    for condition in conditions.get(name, ()):
        if truthy(evaluate(condition, context)):
            continue
        if all(
            _answered(context.get(read)) or _not_asked(read, context, conditions, seen)
            for read in references(condition)
        ):
            return True
    return False


def _aggregate(values: Sequence[object], aggregation: str) -> float:
    if aggregation == "count_yes":
        return float(sum(1 for v in values if v == "yes"))
    numbers = np.array([as_number(v) for v in values], dtype=float)
    present = numbers[~np.isnan(numbers)]
    if aggregation == "share":
        flags = [
            1.0
            if (isinstance(v, str) and v.lower() in {"yes", "true", "1"})
            or (
                isinstance(v, int | float)
                and not isinstance(v, bool)
                and v != 0
                and not math.isnan(v)
            )
            or v is True
            else 0.0
            for v in values
        ]
        return float(np.mean(flags) * 100) if flags else math.nan
    if present.size == 0:
        return math.nan
    if aggregation == "median":
        return float(np.median(present))
    if aggregation == "mean":
        return float(np.mean(present))
    return float(present.sum())


def indicator_by_area(
    responses: pd.DataFrame,
    expected: pd.DataFrame,
    areas: pd.DataFrame,
    spec: IndicatorSpec,
    *,
    low_coverage_threshold: float = 0.5,
    numerators: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per area: the indicator's value with its numerator, denominator and coverage.

    Parameters
    ----------
    responses
        Submitted responses to the indicator's questionnaire: ``area_code``, ``centre_id``,
        ``answers`` (one row per response; at most one per centre).
    expected
        Centres expected to answer: ``area_code``, ``centre_id``.
    areas
        ``area_code``, ``area_name``, ``population``, ``population_source``,
        ``population_year`` (and optionally ``population_standin``, ``new_cases``,
        ``new_cases_source``, ``new_cases_year``): every area to report, including those with
        no response (:func:`mapping.populations.areas_frame`).
    numerators
        The numerator of each response (:func:`numerator_values`), indexed like ``responses``,
        when the caller has evaluated them already; evaluated here otherwise.

    Example
    -------
    >>> responses = pd.DataFrame({"area_code": ["FR"], "centre_id": [1],
    ...                           "answers": [{"units": 3}]})
    >>> expected = pd.DataFrame({"area_code": ["FR", "FR"], "centre_id": [1, 2]})
    >>> areas = pd.DataFrame({"area_code": ["FR"], "area_name": ["France"],
    ...     "population": [2_000_000], "population_source": ["test"], "population_year": [2024]})
    >>> spec = IndicatorSpec("u", "f", "${units}", "sum", "population_per_million", {}, {})
    >>> indicator_by_area(responses, expected, areas, spec)[["value", "coverage"]].iloc[0].tolist()
    [1.5, 0.5]
    """
    if len(responses):
        if numerators is None:
            numerators = numerator_values(responses, spec)
    else:
        responses = pd.DataFrame({"area_code": [], "centre_id": [], "answers": []})
        numerators = pd.Series(dtype=object)
    rows = []
    expected_counts = expected.groupby("area_code")["centre_id"].nunique()
    # Each area's numerators and centres, gathered in one pass over the responses.
    values_of: dict[object, list[object]] = {}
    centres_of: dict[object, set[object]] = {}
    for code, centre, value in zip(
        responses["area_code"], responses["centre_id"], numerators, strict=True
    ):
        values_of.setdefault(code, []).append(value)
        centres_of.setdefault(code, set()).add(centre)
    for area in areas.itertuples(index=False):
        responding = len(centres_of.get(area.area_code, ()))
        expected_n = int(expected_counts.get(area.area_code, 0))
        coverage = responding / expected_n if expected_n else math.nan
        aggregate = (
            _aggregate(values_of[area.area_code], spec.aggregation) if responding else math.nan
        )
        reference, source, year, standin = _reference(area, spec)
        denominator, value = _apply_denominator(spec, aggregate, responding, reference)
        rows.append(
            {
                "area_code": area.area_code,
                "area_name": area.area_name,
                "value": value,
                "numerator": aggregate,
                "denominator": denominator,
                "denominator_kind": spec.denominator,
                "denominator_source": source,
                "denominator_year": year,
                "denominator_standin": standin,
                "expected": expected_n,
                "responding": responding,
                "coverage": coverage,
                "low_coverage": bool(
                    responding and expected_n and coverage < low_coverage_threshold
                ),
                "no_data": responding == 0,
            }
        )
    result = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    result["denominator_year"] = pd.array(
        [None if y is None or pd.isna(y) else int(y) for y in result["denominator_year"]],
        dtype="Int64",
    )
    return result


def divides_by_reference(spec: IndicatorSpec) -> bool:
    """Whether the indicator's values are divided by a reference figure (population, new
    cancer cases): a sum or count with such a denominator. Medians, means and shares are not.

    Examples
    --------
    >>> per_million = IndicatorSpec("u", "f", "x", "sum", "population_per_million", {}, {})
    >>> divides_by_reference(per_million)
    True
    >>> from dataclasses import replace
    >>> divides_by_reference(replace(per_million, aggregation="median"))
    False
    """
    return spec.denominator in PER_UNIT and spec.aggregation not in {"median", "mean", "share"}


def _reference(area: Any, spec: IndicatorSpec) -> tuple[float | None, str | None, object, bool]:
    """The reference figure an area's value is divided by, its source, year and stand-in flag."""
    kind = spec.denominator if divides_by_reference(spec) else "none"
    if kind == "population_per_million":
        return (
            _float_or_none(area.population),
            area.population_source,
            area.population_year,
            bool(getattr(area, "population_standin", False)),
        )
    if kind == "new_cases_per_thousand":
        return (
            _float_or_none(getattr(area, "new_cases", None)),
            getattr(area, "new_cases_source", None),
            getattr(area, "new_cases_year", None),
            False,
        )
    return None, "survey responses", None, False


def _float_or_none(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _apply_denominator(
    spec: IndicatorSpec, aggregate: float, responding: int, reference: float | None
) -> tuple[float, float]:
    if math.isnan(aggregate):
        return math.nan, math.nan
    if spec.aggregation in {"median", "mean", "share"} or spec.denominator == "none":
        return math.nan, aggregate
    if spec.denominator == "centres_responding":
        return float(responding), aggregate / responding * 100 if responding else math.nan
    if reference is None or not reference or math.isnan(reference):
        return math.nan, math.nan
    return float(reference), aggregate / float(reference) * PER_UNIT[spec.denominator]
