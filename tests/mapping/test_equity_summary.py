"""The equity figures of one map: EU-27 benchmarks, the direction of the gap, what is weighted."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mapping.equity_summary import BenchmarkAreas, equity_summary
from mapping.indicators import IndicatorSpec

EU = BenchmarkAreas(frozenset({"AT", "BE", "DE", "FR"}))  # four "member states" for the test


def frame(
    values: dict[str, float | None], populations: dict[str, float] | None = None
) -> pd.DataFrame:
    codes = list(values)
    return pd.DataFrame(
        {
            "area_code": codes,
            "value": [values[c] for c in codes],
            "denominator": [(populations or {}).get(c) for c in codes],
            "no_data": [values[c] is None for c in codes],
        }
    )


def indicator(
    aggregation: str = "sum",
    denominator: str = "population_per_million",
    *,
    higher_is_better: bool = True,
    benchmark: dict[str, object] | None = None,
) -> IndicatorSpec:
    return IndicatorSpec(
        "x",
        "form",
        "${n}",
        aggregation,
        denominator,
        {"en": "Units"},
        {"en": "units per million"},
        higher_is_better=higher_is_better,
        benchmark=benchmark,
    )


# --- the benchmark -----------------------------------------------------------------------------


def test_the_eu_median_is_over_the_member_states_only_and_says_how_many_had_data() -> None:
    values = {"AT": 1.0, "BE": 2.0, "DE": 3.0, "FR": None, "CH": 40.0, "NO": 30.0, "TR": 20.0}
    summary = equity_summary(
        indicator(), frame(values, dict.fromkeys(values, 1e6)), benchmark_areas=EU
    )
    assert summary.benchmark == 2.0  # median of AT, BE, DE; not 3.0, the median of all six
    assert summary.benchmark_label == "EU-27 median (3 of 4 member states with data)"
    assert (summary.benchmark_areas_with_data, summary.benchmark_areas) == (3, 4)
    assert summary.gaps["AT"] == 1.0
    assert summary.gaps["CH"] == 0.0
    assert summary.units_needed == {"AT": 1, "BE": 0, "DE": 0, "CH": 0, "NO": 0, "TR": 0}
    assert summary.areas_with_data == 6  # the inequality figures still cover every area


def test_no_member_state_with_data_gives_no_benchmark_and_says_so() -> None:
    summary = equity_summary(indicator(), frame({"CH": 4.0, "AT": None}), benchmark_areas=EU)
    assert summary.benchmark is None
    assert summary.gaps == {}
    assert summary.benchmark_label == "EU-27 median: none of the 4 member states has data"


def test_a_reference_rate_is_labelled_with_its_value_and_keeps_its_source() -> None:
    rate = {"kind": "rate", "value": 5.3, "source": "ESTRO-HERO"}
    summary = equity_summary(indicator(benchmark=rate), frame({"AT": 2.0}), benchmark_areas=EU)
    assert summary.benchmark == 5.3
    assert summary.benchmark_label == "Reference rate: 5.3 units per million"
    assert summary.benchmark_source == "ESTRO-HERO"


# --- lower is better ---------------------------------------------------------------------------


def test_when_lower_is_better_the_gap_is_the_excess_and_no_units_are_needed() -> None:
    waits = indicator("median", "none", higher_is_better=False)
    summary = equity_summary(
        waits, frame({"AT": 2.0, "BE": 4.0, "DE": 10.0, "FR": 6.0}), benchmark_areas=EU
    )
    assert summary.benchmark == 5.0
    assert summary.gap_kind == "excess"
    assert summary.gaps == {"AT": 0.0, "BE": 0.0, "DE": 5.0, "FR": 1.0}  # the longest waits
    assert summary.units_needed == {}

    quartile = indicator(
        "median", "none", higher_is_better=False, benchmark={"kind": "top_quartile"}
    )
    best = equity_summary(
        quartile, frame({"AT": 2.0, "BE": 4.0, "DE": 10.0, "FR": 6.0}), benchmark_areas=EU
    )
    assert best.benchmark == 3.5  # the 25th percentile: the quarter that waits least
    assert best.benchmark_label == (
        "EU-27 top quartile, 25th percentile (4 of 4 member states with data)"
    )


# --- what is weighted, and the ratio -----------------------------------------------------------


def test_only_rates_per_inhabitant_have_population_weighted_figures() -> None:
    per_million = equity_summary(
        indicator(), frame({"AT": 1.0, "BE": 3.0}, {"AT": 1e6, "BE": 3e6}), benchmark_areas=EU
    )
    assert per_million.weighted_by == "population"
    assert per_million.gini == pytest.approx(0.25)  # 2 * |1 - 3| / (2 * 2^2 * 2)
    # As the Gini of [1, 3, 3, 3]: 12 / (2 * 4^2 * 2.5); each number under its own label.
    assert per_million.gini_population_weighted == pytest.approx(0.15)

    shares = equity_summary(
        indicator("count_yes", "centres_responding"), frame({"AT": 10.0, "BE": 30.0})
    )
    assert shares.weighted_by is None
    assert math.isnan(shares.gini_population_weighted)
    assert math.isnan(shares.theil_population_weighted)
    assert math.isnan(shares.coefficient_of_variation_weighted)


def test_a_zero_minimum_makes_the_ratio_unbounded_apart_from_no_data() -> None:
    unbounded = equity_summary(
        indicator(), frame({"AT": 0.0, "BE": 3.0}, dict.fromkeys(["AT", "BE"], 1e6))
    )
    assert unbounded.unbounded_ratio
    empty = equity_summary(indicator(), frame({"AT": None}))
    assert not empty.unbounded_ratio
    assert math.isnan(empty.max_min_ratio)
    assert empty.areas_with_data == 0
