"""The equity figures of one indicator map: the metrics of :mod:`mapping.equity` over the areas
that have data, the benchmark and each area's gap to it.

Pure: an indicator frame (:func:`mapping.indicators.indicator_by_area`) in, an
:class:`EquitySummary` out. No-data areas are left out, never counted as zero; rates per
million are weighted by population, rates per 1,000 new cancer cases by cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from mapping import equity
from mapping.indicators import PER_UNIT, IndicatorSpec


@dataclass(frozen=True)
class EquitySummary:
    """Inequality across the areas with data, and each area's distance to the benchmark.

    ``gaps`` and ``units_needed`` are keyed by area code; NaN where a metric is undefined
    (no area with data).
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


def equity_summary(
    spec: IndicatorSpec, frame: pd.DataFrame, groups: pd.Series | None = None
) -> EquitySummary:
    """Equity metrics across the areas that have data (no-data areas are left out).

    ``groups`` names each area's group (its country, for regions) to split Theil's index into
    between- and within-group parts.

    Examples
    --------
    >>> import pandas as pd
    >>> spec = IndicatorSpec("u", "f", "${units}", "sum", "none", {}, {})
    >>> frame = pd.DataFrame({"area_code": ["A", "B", "C"], "value": [1.0, 3.0, None],
    ...     "denominator": [None] * 3, "no_data": [False, False, True]})
    >>> summary = equity_summary(spec, frame)
    >>> summary.areas_with_data, summary.max_min_ratio, summary.benchmark
    (2, 3.0, 2.0)
    """
    data = frame[~frame["no_data"] & frame["value"].notna()]
    values = data["value"].astype(float)
    weights = (
        data["denominator"].astype(float)
        if spec.denominator in PER_UNIT
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
    benchmark, kind, source = _benchmark(spec, values)
    gaps: dict[str, float] = {}
    needed: dict[str, int] = {}
    if benchmark is not None and len(data):
        gap = equity.gap_to_benchmark(values, benchmark)
        gaps = {code: float(g) for code, g in zip(data["area_code"], gap, strict=True)}
        if spec.denominator in PER_UNIT and spec.aggregation in {"sum", "count_yes"}:
            # units_needed works per million: scale a rate per 1,000 cases to match.
            scale = 1_000_000 / PER_UNIT[spec.denominator]
            base = data["denominator"].astype(float) * scale
            units = equity.units_needed(values, base, benchmark)
            needed = {
                code: int(u)
                for code, u in zip(data["area_code"], units, strict=True)
                if not pd.isna(u)
            }
    return EquitySummary(
        areas_with_data=len(data),
        gini=equity.gini(values) if len(data) else math.nan,
        gini_population_weighted=equity.gini(values, weights) if len(data) else math.nan,
        theil=equity.theil(values) if len(data) else math.nan,
        theil_population_weighted=equity.theil(values, weights) if len(data) else math.nan,
        theil_between=between,
        theil_within=within,
        max_min_ratio=equity.max_min_ratio(values) if len(data) else math.nan,
        coefficient_of_variation=equity.coefficient_of_variation(values) if len(data) else math.nan,
        coefficient_of_variation_weighted=equity.coefficient_of_variation(values, weights)
        if len(data)
        else math.nan,
        benchmark=benchmark,
        benchmark_kind=kind,
        benchmark_source=source,
        gaps=gaps,
        units_needed=needed,
    )


def _benchmark(
    spec: IndicatorSpec, values: pd.Series
) -> tuple[float | None, str | None, str | None]:
    declared = dict(spec.benchmark or {"kind": "eu_median"})
    kind = str(declared.get("kind"))
    if kind == "rate" and isinstance(declared.get("value"), int | float):
        return float(declared["value"]), kind, str(declared.get("source", "")) or None
    if kind in {"eu_median", "top_quartile"} and len(values):
        return equity.benchmark_value(values, kind), kind, "computed from the areas with data"  # type: ignore[arg-type]
    return None, None, None
