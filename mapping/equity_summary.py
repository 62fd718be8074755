"""The equity figures of one indicator map: the metrics of :mod:`mapping.equity` over the areas
that have data, the benchmark and each area's gap to it.

Pure: an indicator frame (:func:`mapping.indicators.indicator_by_area`) in, an
:class:`EquitySummary` out. No-data areas are left out, never counted as zero; rates per
million are weighted by population and rates per 1,000 new cancer cases by cases; only those
rates have weighted figures (:attr:`EquitySummary.weighted_by` says by what).

Every benchmark says what it is (:attr:`EquitySummary.benchmark_label`). A computed benchmark
("eu_median", "top_quartile") is taken over the EU-27 member states (at NUTS-2, over the regions
of the member states): the caller names those areas in :class:`BenchmarkAreas`, and the label
says how many of them have data, e.g. "EU-27 median (24 of 27 member states with data)". An
indicator where lower is better (waiting times) has the excess over the benchmark as its gap,
and its "top quartile" is the quarter that waits least.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from mapping import equity
from mapping.indicators import PER_UNIT, IndicatorSpec

# What the weighted figures of a rate are weighted by.
WEIGHTED_BY = {"population_per_million": "population", "new_cases_per_thousand": "new cancer cases"}

GapKind = Literal["shortfall", "excess"]


@dataclass(frozen=True)
class BenchmarkAreas:
    """The areas a computed benchmark is taken over, and how the label names them.

    Attributes
    ----------
    codes : frozenset of str
        Every area of the group at the map's level, with data or not (the 27 member states,
        or the NUTS-2 regions of the member states).
    name : str
        The group's name in the label: "EU-27".
    noun : str
        What the areas are: "member states", "regions of EU-27 member states".
    """

    codes: frozenset[str]
    name: str = "EU-27"
    noun: str = "member states"


@dataclass(frozen=True)
class EquitySummary:
    """Inequality across the areas with data, and each area's distance to the benchmark.

    ``gaps`` and ``units_needed`` are keyed by area code. A gap is a ``"shortfall"`` below the
    benchmark, or an ``"excess"`` over it when lower is better (``gap_kind``). Metrics are NaN
    where undefined (no area with data), and the population-weighted ones are NaN for an
    indicator that is not per inhabitant (``weighted_by`` is None): there is no population to
    weight by. ``max_min_ratio`` is ``inf`` when the lowest value is zero and another is not.
    """

    areas_with_data: int
    gini: float
    gini_population_weighted: float
    theil: float
    theil_population_weighted: float
    theil_between: float | None
    theil_within: float | None
    max_min_ratio: float
    coefficient_of_variation: float
    coefficient_of_variation_weighted: float
    benchmark: float | None
    benchmark_kind: str | None
    benchmark_source: str | None
    gaps: dict[str, float]
    units_needed: dict[str, int]
    benchmark_label: str | None = None
    benchmark_areas_with_data: int | None = None
    benchmark_areas: int | None = None
    higher_is_better: bool = True
    weighted_by: str | None = None

    @property
    def gap_kind(self) -> GapKind:
        """``"shortfall"`` (below the benchmark) or ``"excess"`` (above it, lower is better)."""
        return "shortfall" if self.higher_is_better else "excess"

    @property
    def unbounded_ratio(self) -> bool:
        """Whether the highest-to-lowest ratio is unbounded: the lowest area has none."""
        return math.isinf(self.max_min_ratio)


def equity_summary(
    spec: IndicatorSpec,
    frame: pd.DataFrame,
    groups: pd.Series | None = None,
    *,
    benchmark_areas: BenchmarkAreas | None = None,
) -> EquitySummary:
    """Equity metrics across the areas that have data (no-data areas are left out).

    ``groups`` names each area's group (its country, for regions) to split Theil's index into
    between- and within-group parts. ``benchmark_areas`` are the areas a computed benchmark is
    taken over (the EU-27); without it, over every area with data, labelled so.

    Examples
    --------
    >>> import pandas as pd
    >>> spec = IndicatorSpec("u", "f", "${units}", "sum", "none", {}, {})
    >>> frame = pd.DataFrame({"area_code": ["A", "B", "C"], "value": [1.0, 3.0, None],
    ...     "denominator": [None] * 3, "no_data": [False, False, True]})
    >>> summary = equity_summary(spec, frame)
    >>> summary.areas_with_data, summary.max_min_ratio, summary.benchmark
    (2, 3.0, 2.0)
    >>> summary.benchmark_label
    'Median of the 2 areas with data'
    >>> eu = BenchmarkAreas(frozenset({"B", "C"}))
    >>> equity_summary(spec, frame, benchmark_areas=eu).benchmark_label
    'EU-27 median (1 of 2 member states with data)'
    """
    data = frame[~frame["no_data"] & frame["value"].notna()]
    values = data["value"].astype(float)
    weighted = spec.denominator in PER_UNIT
    weights = (
        data["denominator"].astype(float)
        if weighted
        else pd.Series([1.0] * len(data), index=data.index)
    )
    weights = weights.where(weights.notna() & (weights > 0), 1.0)
    between = within = None
    if groups is not None and len(data):
        decomposition = equity.theil_decomposition(
            data.assign(group=groups.reindex(data.index).fillna(data["area_code"]), weight=weights),
            "value",
            "group",
            "weight",
        )
        between, within = decomposition.between, decomposition.within
    benchmark = _benchmark(spec, data, benchmark_areas)
    gaps: dict[str, float] = {}
    needed: dict[str, int] = {}
    if benchmark.value is not None and len(data):
        gap = equity.gap_to_benchmark(
            values, benchmark.value, higher_is_better=spec.higher_is_better
        )
        gaps = {code: float(g) for code, g in zip(data["area_code"], gap, strict=True)}
        if weighted and spec.higher_is_better and spec.aggregation in {"sum", "count_yes"}:
            # units_needed works per million: scale a rate per 1,000 cases to match.
            scale = 1_000_000 / PER_UNIT[spec.denominator]
            base = data["denominator"].astype(float) * scale
            units = equity.units_needed(values, base, benchmark.value)
            needed = {
                code: int(u)
                for code, u in zip(data["area_code"], units, strict=True)
                if not pd.isna(u)
            }
    some = len(data) > 0
    return EquitySummary(
        areas_with_data=len(data),
        gini=equity.gini(values) if some else math.nan,
        gini_population_weighted=equity.gini(values, weights) if some and weighted else math.nan,
        theil=equity.theil(values) if some else math.nan,
        theil_population_weighted=equity.theil(values, weights) if some and weighted else math.nan,
        theil_between=between,
        theil_within=within,
        max_min_ratio=equity.max_min_ratio(values) if some else math.nan,
        coefficient_of_variation=equity.coefficient_of_variation(values) if some else math.nan,
        coefficient_of_variation_weighted=equity.coefficient_of_variation(values, weights)
        if some and weighted
        else math.nan,
        benchmark=benchmark.value,
        benchmark_kind=benchmark.kind,
        benchmark_source=benchmark.source,
        gaps=gaps,
        units_needed=needed,
        benchmark_label=benchmark.label,
        benchmark_areas_with_data=benchmark.with_data,
        benchmark_areas=benchmark.of,
        higher_is_better=spec.higher_is_better,
        weighted_by=WEIGHTED_BY.get(spec.denominator),
    )


@dataclass(frozen=True)
class _Benchmark:
    value: float | None = None
    kind: str | None = None
    source: str | None = None
    label: str | None = None
    with_data: int | None = None
    of: int | None = None


def _benchmark(spec: IndicatorSpec, data: pd.DataFrame, areas: BenchmarkAreas | None) -> _Benchmark:
    declared = dict(spec.benchmark or {"kind": "eu_median"})
    kind = str(declared.get("kind"))
    if kind == "rate" and isinstance(declared.get("value"), int | float):
        value = float(declared["value"])
        unit = spec.unit.get("en", "")
        label = f"Reference rate: {value:g}{f' {unit}' if unit else ''}"
        return _Benchmark(value, kind, str(declared.get("source", "")) or None, label)
    if kind not in {"eu_median", "top_quartile"}:
        return _Benchmark()
    statistic = _statistic(kind, spec)
    if areas is None:
        values = data["value"].astype(float)
        if not len(values):
            return _Benchmark(kind=kind, label=f"{statistic.capitalize()}: no area has data")
        label = f"{statistic.capitalize()} of the {len(values)} areas with data"
        source = "computed from the areas with data"
        return _Benchmark(_value(values, kind, spec), kind, source, label, len(values))
    values = data.loc[data["area_code"].isin(areas.codes), "value"].astype(float)
    counts = f"{len(values)} of {len(areas.codes)} {areas.noun} with data"
    if not len(values):
        label = f"{areas.name} {statistic}: none of the {len(areas.codes)} {areas.noun} has data"
        return _Benchmark(kind=kind, label=label, with_data=0, of=len(areas.codes))
    return _Benchmark(
        _value(values, kind, spec),
        kind,
        f"computed from the {areas.noun} with data",
        f"{areas.name} {statistic} ({counts})",
        len(values),
        len(areas.codes),
    )


def _value(values: pd.Series, kind: str, spec: IndicatorSpec) -> float:
    return equity.benchmark_value(
        values,
        "eu_median" if kind == "eu_median" else "top_quartile",
        higher_is_better=spec.higher_is_better,
    )


def _statistic(kind: str, spec: IndicatorSpec) -> str:
    if kind == "eu_median":
        return "median"
    # The best quarter of areas: the most provided, or the shortest waits when lower is better.
    return "top quartile, " + ("75th percentile" if spec.higher_is_better else "25th percentile")
