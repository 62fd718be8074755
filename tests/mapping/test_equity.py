import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.equity import (
    benchmark_value,
    coefficient_of_variation,
    gap_to_benchmark,
    gini,
    max_min_ratio,
    theil,
    theil_decomposition,
    units_needed,
)

NAN = math.nan

# Zero, or far enough from zero that rescaling by 1e-3 stays clear of subnormal floats.
values_strategy = st.lists(
    st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=1e6)), min_size=1, max_size=30
)
weighted_strategy = st.lists(
    st.tuples(st.floats(min_value=0, max_value=1e4), st.integers(min_value=0, max_value=5)),
    min_size=1,
    max_size=20,
)


def expand(pairs: list[tuple[float, int]]) -> tuple[list[float], list[int], list[float]]:
    """Values, integer weights, and the values repeated weight times (the independent check)."""
    values = [value for value, _ in pairs]
    weights = [weight for _, weight in pairs]
    return values, weights, [value for value, weight in pairs for _ in range(weight)]


# --- gini ------------------------------------------------------------------------------------


def test_gini_hand_computed() -> None:
    # |xi - xj| over ordered pairs of [1, 2, 3, 4]: 2 * (1 + 2 + 3 + 1 + 2 + 1) = 20
    # G = 20 / (2 * n^2 * mean) = 20 / (2 * 16 * 2.5) = 0.25
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)


def test_gini_of_one_holder_among_four_is_the_maximum() -> None:
    # [0, 0, 0, 1]: three pairs differ by 1, both orders: 6; mean 0.25
    # G = 6 / (2 * 16 * 0.25) = 0.75 = (n - 1) / n
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)


def test_gini_weighted_hand_computed() -> None:
    # values [1, 3] with weights [3, 1] are the people [1, 1, 1, 3]:
    # differing ordered pairs 3 * 2 = 6, each |1 - 3| = 2: 12; W = 4; mean = 6 / 4 = 1.5
    # G = 12 / (2 * 16 * 1.5) = 0.25
    assert gini([1, 3], weights=[3, 1]) == pytest.approx(0.25)


def test_gini_excludes_missing_values_and_their_weights() -> None:
    assert gini([1, 2, 3, 4, NAN]) == pytest.approx(0.25)
    assert gini([1, 3, 100], weights=[3, 1, NAN]) == pytest.approx(0.25)
    assert gini(pd.Series([1, 2, 3, 4, None], dtype="Float64")) == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([7.0], 0.0, id="single area"),
        pytest.param([0.0, 0.0, 0.0], 0.0, id="all zero"),
        pytest.param([3.0, 3.0], 0.0, id="all equal"),
    ],
)
def test_gini_of_equal_areas_is_zero(values: list[float], expected: float) -> None:
    assert gini(values) == expected


@pytest.mark.parametrize(
    ("values", "weights"),
    [
        pytest.param([], None, id="empty"),
        pytest.param([NAN, NAN], None, id="all missing"),
        pytest.param([1.0, 2.0], [0.0, 0.0], id="zero total weight"),
    ],
)
def test_gini_without_areas_is_nan(values: list[float], weights: list[float] | None) -> None:
    assert math.isnan(gini(values, weights))


@given(weighted_strategy)
@settings(deadline=None)
def test_gini_weighted_equals_expanded(pairs: list[tuple[float, int]]) -> None:
    values, weights, expanded = expand(pairs)
    if not expanded:
        assert math.isnan(gini(values, weights))
    else:
        assert gini(values, weights) == pytest.approx(gini(expanded), rel=1e-9, abs=1e-12)


@given(values_strategy)
@settings(deadline=None)
def test_gini_is_in_unit_interval(values: list[float]) -> None:
    assert 0 <= gini(values) < 1


@given(values_strategy, st.floats(min_value=1e-3, max_value=1e3))
@settings(deadline=None)
def test_gini_is_scale_invariant(values: list[float], factor: float) -> None:
    scaled = [value * factor for value in values]
    assert gini(scaled) == pytest.approx(gini(values), rel=1e-9, abs=1e-12)


@given(st.data(), values_strategy)
@settings(deadline=None)
def test_gini_is_permutation_invariant(data: st.DataObject, values: list[float]) -> None:
    shuffled = data.draw(st.permutations(values))
    assert gini(shuffled) == pytest.approx(gini(values), rel=1e-9, abs=1e-12)


# --- theil -----------------------------------------------------------------------------------


def test_theil_hand_computed() -> None:
    # [1, 2, 3, 4]: mean 2.5, shares 0.1, 0.2, 0.3, 0.4 and x / mean 0.4, 0.8, 1.2, 1.6
    expected = 0.1 * math.log(0.4) + 0.2 * math.log(0.8) + 0.3 * math.log(1.2) + 0.4 * math.log(1.6)
    assert theil([1, 2, 3, 4]) == pytest.approx(expected)
    assert expected == pytest.approx(0.10644, abs=1e-5)


def test_theil_uses_zero_log_zero_convention() -> None:
    # [0, 1]: mean 0.5; the zero adds 0 ln 0 = 0; the other holds everything: 1 * ln(1 / 0.5)
    assert theil([0, 1]) == pytest.approx(math.log(2))


def test_theil_weighted_hand_computed() -> None:
    # [1, 3] with weights [3, 1] = [1, 1, 1, 3]: mean 1.5, total 6
    # shares: three of 1/6 at ln(1 / 1.5), one of 3/6 at ln(3 / 1.5)
    expected = 3 * (1 / 6) * math.log(1 / 1.5) + (3 / 6) * math.log(3 / 1.5)
    assert theil([1, 3], weights=[3, 1]) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([7.0], 0.0, id="single area"),
        pytest.param([0.0, 0.0], 0.0, id="all zero"),
        pytest.param([], NAN, id="empty"),
        pytest.param([NAN], NAN, id="all missing"),
    ],
)
def test_theil_edge_cases(values: list[float], expected: float) -> None:
    assert theil(values) == pytest.approx(expected, nan_ok=True)


@given(weighted_strategy)
@settings(deadline=None)
def test_theil_weighted_equals_expanded(pairs: list[tuple[float, int]]) -> None:
    values, weights, expanded = expand(pairs)
    if expanded:
        assert theil(values, weights) == pytest.approx(theil(expanded), rel=1e-9, abs=1e-12)


@given(values_strategy, st.floats(min_value=1e-3, max_value=1e3))
@settings(deadline=None)
def test_theil_is_non_negative_and_scale_invariant(values: list[float], factor: float) -> None:
    scaled = [value * factor for value in values]
    assert theil(values) >= 0
    assert theil(scaled) == pytest.approx(theil(values), rel=1e-9, abs=1e-12)


# --- theil_decomposition ---------------------------------------------------------------------


def test_theil_decomposition_hand_computed() -> None:
    areas = pd.DataFrame({"value": [1.0, 1.0, 2.0, 4.0], "country": ["A", "A", "B", "B"]})
    # total 8, mean 2; A = [1, 1]: mean 1, share 2/8; B = [2, 4]: mean 3, share 6/8
    between = 0.25 * math.log(1 / 2) + 0.75 * math.log(3 / 2)
    # within A: 0 (equal); within B: shares 1/3, 2/3 of mean 3
    theil_b = (1 / 3) * math.log(2 / 3) + (2 / 3) * math.log(4 / 3)
    within = 0.75 * theil_b
    # whole: shares 1/8, 1/8, 2/8, 4/8 of mean 2
    total = 2 * (1 / 8) * math.log(1 / 2) + (2 / 8) * math.log(1) + (4 / 8) * math.log(2)

    parts = theil_decomposition(areas, "value", "country")

    assert parts.between == pytest.approx(between)
    assert parts.within == pytest.approx(within)
    assert parts.total == pytest.approx(total)
    assert parts.between + parts.within == pytest.approx(parts.total)
    assert parts.groups.loc["B", "theil"] == pytest.approx(theil_b)
    assert parts.groups.loc["A", "value_share"] == pytest.approx(0.25)
    assert parts.groups.index.name == "country"


def test_theil_decomposition_excludes_rows_without_data_or_group() -> None:
    areas = pd.DataFrame(
        {
            "value": [1.0, 1.0, 2.0, 4.0, NAN, 50.0, 60.0],
            "country": ["A", "A", "B", "B", "B", None, "C"],
            "people": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, NAN],
        }
    )
    parts = theil_decomposition(areas, "value", "country", weight_col="people")
    assert parts.total == pytest.approx(theil([1, 1, 2, 4]))
    assert list(parts.groups.index) == ["A", "B"]


def test_theil_decomposition_of_all_zero_values_is_zero() -> None:
    areas = pd.DataFrame({"value": [0.0, 0.0, 0.0], "country": ["A", "B", "B"]})
    parts = theil_decomposition(areas, "value", "country")
    assert (parts.total, parts.between, parts.within) == (0.0, 0.0, 0.0)


def test_theil_decomposition_of_nothing_is_nan() -> None:
    areas = pd.DataFrame({"value": [NAN], "country": ["A"]})
    parts = theil_decomposition(areas, "value", "country")
    assert all(math.isnan(part) for part in (parts.total, parts.between, parts.within))


def test_theil_decomposition_names_missing_columns() -> None:
    with pytest.raises(ValueError, match="'people'"):
        theil_decomposition(pd.DataFrame({"v": [1.0], "g": ["A"]}), "v", "g", "people")


@given(
    st.lists(
        st.tuples(
            st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=1e4)),
            st.sampled_from(["A", "B", "C"]),
            st.integers(min_value=0, max_value=5),
        ),
        min_size=1,
        max_size=30,
    )
)
@settings(deadline=None)
def test_theil_decomposition_is_additive(rows: list[tuple[float, str, int]]) -> None:
    frame = pd.DataFrame(rows, columns=["value", "group", "weight"])
    parts = theil_decomposition(frame, "value", "group", "weight")
    if frame["weight"].sum() == 0:
        assert math.isnan(parts.total)
        return
    assert parts.between >= -1e-12
    assert parts.within >= -1e-12
    assert parts.between + parts.within == pytest.approx(parts.total, rel=1e-9, abs=1e-12)
    assert parts.total == pytest.approx(
        theil(frame["value"], frame["weight"]), rel=1e-12, abs=1e-15
    )


# --- coefficient_of_variation and max_min_ratio ----------------------------------------------


def test_coefficient_of_variation_hand_computed() -> None:
    # [1, 3]: mean 2, population sd sqrt(((1 - 2)^2 + (3 - 2)^2) / 2) = 1: CV 0.5
    assert coefficient_of_variation([1, 3]) == pytest.approx(0.5)
    # [1, 3] weighted [3, 1] = [1, 1, 1, 3]: mean 1.5, variance (3 * 0.25 + 2.25) / 4 = 0.75
    assert coefficient_of_variation([1, 3], [3, 1]) == pytest.approx(math.sqrt(0.75) / 1.5)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([4.0], 0.0, id="single area"),
        pytest.param([0.0, 0.0], 0.0, id="all zero"),
        pytest.param([NAN], NAN, id="all missing"),
    ],
)
def test_coefficient_of_variation_edge_cases(values: list[float], expected: float) -> None:
    assert coefficient_of_variation(values) == pytest.approx(expected, nan_ok=True)


@given(weighted_strategy)
@settings(deadline=None)
def test_coefficient_of_variation_weighted_equals_expanded(pairs: list[tuple[float, int]]) -> None:
    values, weights, expanded = expand(pairs)
    if expanded:
        # np.std with ddof=0 is the population standard deviation, computed independently.
        mean = float(np.mean(expanded))
        expected = float(np.std(expanded)) / mean if mean > 0 else 0.0
        assert coefficient_of_variation(values, weights) == pytest.approx(
            expected, rel=1e-7, abs=1e-9
        )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([2.0, 5.0, 10.0, NAN], 5.0, id="10 / 2"),
        pytest.param([4.0], 1.0, id="single area"),
        pytest.param([0.0, 3.0], math.inf, id="zero minimum"),
        pytest.param([0.0, 0.0], NAN, id="all zero"),
        pytest.param([], NAN, id="empty"),
    ],
)
def test_max_min_ratio(values: list[float], expected: float) -> None:
    assert max_min_ratio(values) == pytest.approx(expected, nan_ok=True)


# --- benchmarks ------------------------------------------------------------------------------


def test_benchmark_value_kinds() -> None:
    values = [4.0, 1.0, NAN, 3.0, 2.0]
    assert benchmark_value(values, "eu_median") == 2.5  # (2 + 3) / 2
    assert benchmark_value(values, "top_quartile") == 3.25  # position 0.75 * 3 = 2.25: 3 + 0.25
    assert benchmark_value(values, 7) == 7.0
    assert math.isnan(benchmark_value([NAN], "eu_median"))


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        pytest.param("eu_mean", "unknown benchmark 'eu_mean'", id="unknown kind"),
        pytest.param(-1.0, "non-negative", id="negative"),
        pytest.param(math.inf, "finite", id="infinite"),
        pytest.param(True, "a number", id="bool"),
    ],
)
def test_benchmark_value_rejects_bad_kinds(kind: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        benchmark_value([1.0], kind)  # type: ignore[arg-type]  # testing invalid input


def test_gap_to_benchmark_keeps_index_and_missing_values() -> None:
    rates = pd.Series([1.0, 4.0, NAN, 2.0], index=["AT", "BE", "BG", "CY"])
    gap = gap_to_benchmark(rates, 3.0)
    expected = pd.Series([2.0, 0.0, NAN, 1.0], index=rates.index, name="gap")
    pd.testing.assert_series_equal(gap, expected)


def test_when_lower_is_better_the_gap_is_the_excess_and_the_best_quartile_waits_least() -> None:
    weeks = pd.Series([2.0, 4.0, NAN, 9.0], index=["AT", "BE", "BG", "CY"])
    gap = gap_to_benchmark(weeks, 4.0, higher_is_better=False)
    # Waiting 9 weeks is 5 over the benchmark; the shortest waits are never flagged.
    assert gap.tolist() == pytest.approx([0.0, 0.0, NAN, 5.0], nan_ok=True)
    # The best quarter of [2, 4, 9] waits at most the 25th percentile: 2 + 0.5 * (4 - 2) = 3.
    assert benchmark_value(weeks, "top_quartile", higher_is_better=False) == 3.0
    assert benchmark_value(weeks, "eu_median", higher_is_better=False) == 4.0


def test_gap_to_benchmark_relative_and_computed_benchmark() -> None:
    # median of [1, 2, 3, 4] is 2.5: gaps 1.5, 0.5, 0, 0; relative: 0.6, 0.2, 0, 0
    gap = gap_to_benchmark([1.0, 2.0, 3.0, 4.0], "eu_median", relative=True)
    assert gap.tolist() == pytest.approx([0.6, 0.2, 0.0, 0.0])
    assert gap_to_benchmark([0.0, NAN], 0.0, relative=True).tolist() == pytest.approx(
        [0.0, NAN], nan_ok=True
    )


def test_units_needed_hand_computed() -> None:
    rates = pd.Series([1.0, 3.0, 0.0, NAN, 1.1], index=["AT", "BE", "BG", "CY", "CZ"])
    populations = pd.Series([2e6, 1e6, 0.5e6, 1e6, 1e6], index=rates.index)
    # AT: 2 * 2 - 1 * 2 = 2; BE: above target; BG: 2 * 0.5 - 0 = 1; CY: no data;
    # CZ: 2 * 1 - 1.1 * 1 = 0.9, rounded up to 1
    needed = units_needed(rates, populations, 2.0)
    expected = pd.Series([2, 0, 1, pd.NA, 1], index=rates.index, name="units_needed", dtype="Int64")
    pd.testing.assert_series_equal(needed, expected)


def test_units_needed_ignores_floating_point_noise() -> None:
    # (1.1 - 0.6) * 2 is 1.0000000000000002 in floating point; one unit, not two
    assert units_needed([0.6], [2e6], 1.1).tolist() == [1]


def test_units_needed_with_computed_benchmark() -> None:
    # top quartile of [0, 1, 2, 3] is 2.25 per million; 4 million people at 0 need 9 units
    assert units_needed([0.0, 1.0, 2.0, 3.0], [4e6] * 4, "top_quartile").tolist() == [9, 5, 1, 0]


# --- input checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: gini([1.0, -1.0]), id="gini negative value"),
        pytest.param(lambda: theil([1.0, 2.0], weights=[1.0, -2.0]), id="theil negative weight"),
        pytest.param(lambda: coefficient_of_variation([1.0, math.inf]), id="cv infinite"),
        pytest.param(lambda: max_min_ratio([-3.0]), id="ratio negative"),
        pytest.param(lambda: gap_to_benchmark([-1.0], 1.0), id="gap negative"),
        pytest.param(lambda: units_needed([1.0], [-5.0], 1.0), id="units negative population"),
        pytest.param(
            lambda: gini([[1.0, 2.0]]),  # type: ignore[list-item]  # deliberately 2-D
            id="two-dimensional",
        ),
    ],
)
def test_invalid_values_raise_value_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"negative|finite|one-dimensional"):
        call()


def test_mismatched_lengths_raise_value_error() -> None:
    with pytest.raises(ValueError, match="weights has 1 entries but there are 2 values"):
        gini([1.0, 2.0], weights=[1.0])
    with pytest.raises(ValueError, match="populations has 3 entries"):
        units_needed([1.0, 2.0], [1e6, 1e6, 1e6], 1.0)


def test_series_with_different_indexes_raise_value_error() -> None:
    rates = pd.Series([1.0, 2.0], index=["AT", "BE"])
    populations = pd.Series([1e6, 1e6], index=["BE", "AT"])
    with pytest.raises(ValueError, match="align them first"):
        units_needed(rates, populations, 3.0)
