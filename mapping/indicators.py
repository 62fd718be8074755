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

Coverage is part of the result: ``expected`` centres (in the campaign), ``responding`` centres
(with a submitted response to the indicator's questionnaire), and ``low_coverage`` when fewer than
the threshold share responded. An area where no centre responded has no value (NaN): no data is
never shown as zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from surveys.questionnaires.answers import expression_context
from surveys.questionnaires.expressions import as_number, evaluate, parse

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
    """One declared indicator (see ``docs/questionnaires.md``)."""

    id: str
    form_id: str
    numerator: str
    aggregation: str
    denominator: str
    label: Mapping[str, str]
    unit: Mapping[str, str]
    higher_is_better: bool = True
    benchmark: Mapping[str, Any] | None = None

    @classmethod
    def from_definition(cls, form_id: str, item: Mapping[str, Any]) -> IndicatorSpec:
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
        )


def numerator_values(responses: pd.DataFrame, spec: IndicatorSpec) -> pd.Series:
    """The numerator of each response (``answers`` column of dicts), evaluated safely.

    Example
    -------
    >>> frame = pd.DataFrame({"answers": [{"units": 2}, {"units": ""}]})
    >>> spec = IndicatorSpec("u", "f", "${units}", "sum", "none", {}, {})
    >>> numerator_values(frame, spec).tolist()
    [2.0, '']
    """
    node = parse(spec.numerator, question=spec.id)
    values = [evaluate(node, expression_context(answers)) for answers in responses["answers"]]
    return pd.Series(values, index=responses.index, dtype=object)


def _aggregate(values: pd.Series, aggregation: str) -> float:
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
    for area in areas.itertuples(index=False):
        mask = responses["area_code"] == area.area_code
        area_values = numerators[mask]
        responding = int(responses.loc[mask, "centre_id"].nunique())
        expected_n = int(expected_counts.get(area.area_code, 0))
        coverage = responding / expected_n if expected_n else math.nan
        aggregate = _aggregate(area_values, spec.aggregation) if responding else math.nan
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
