"""Equity metrics over areas: how unevenly an indicator is spread across countries or regions.

Every function is pure (arrays or frames in, numbers or frames out) and follows the same
conventions:

* ``NaN`` means "no data" and is excluded, never read as zero. With ``weights``, an area whose
  weight is ``NaN`` is excluded too.
* Values and weights must be non-negative and finite (``NaN`` aside); zero is allowed. A negative
  value or weight, an infinite one, or inputs of different lengths raise ``ValueError``.
* ``weights`` (usually population) make the metric population-weighted: an area of weight ``w``
  counts as ``w`` people sharing the area's value. With integer weights the result equals the
  unweighted metric on the values repeated ``w`` times.
* No areas left (or a total weight of zero) gives ``NaN``. One area, or only zeros, gives ``0.0``
  for inequality indices (Gini, Theil, coefficient of variation): there is nothing unequal.

The module runs past 400 lines on purpose: half of it is the metrics' docstrings (formula,
conventions, a worked example each), and the metrics share the private checks at the bottom.
:mod:`mapping.equity_summary` applies them to an indicator map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

Values: TypeAlias = "pd.Series[Any] | npt.NDArray[Any] | Sequence[float]"
FloatArray: TypeAlias = npt.NDArray[np.float64]
BenchmarkKind = Literal["eu_median", "top_quartile"]

BENCHMARK_KINDS: tuple[BenchmarkKind, ...] = ("eu_median", "top_quartile")

# Shortfalls smaller than this many units are floating-point noise, not a missing unit.
_UNIT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class TheilDecomposition:
    """Theil T index split into inequality between groups and within them.

    ``total == between + within`` up to floating-point rounding.

    Attributes
    ----------
    total : float
        Theil T over all areas.
    between : float
        Theil T of the group means: the inequality left if every area had its group's mean.
    within : float
        The groups' own Theil T, weighted by each group's share of the total value.
    groups : pandas.DataFrame
        One row per group (indexed by group) with ``weight_share``, ``value_share``, ``mean``,
        ``theil``, ``between_contribution`` and ``within_contribution``; the contribution
        columns sum to ``between`` and ``within``.
    """

    total: float
    between: float
    within: float
    groups: pd.DataFrame


def gini(values: Values, weights: Values | None = None) -> float:
    """Gini coefficient: the mean absolute difference between areas over twice the mean.

    ``G = sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mean)``, with ``W`` the total weight and
    ``mean`` the weighted mean. This is the population form (no ``n / (n - 1)`` correction), so
    ``n`` equally weighted areas give at most ``(n - 1) / n`` and the index is in ``[0, 1)``.

    Parameters
    ----------
    values : array-like of float
        The indicator per area (e.g. scanners per million). ``NaN`` (no data) is excluded.
    weights : array-like of float, optional
        Weight per area, usually population, for a population-weighted Gini. Areas whose weight
        is ``NaN`` are excluded.

    Returns
    -------
    float
        Between 0 (all areas equal) and 1. ``0.0`` for a single area or all-zero values; ``NaN``
        when no area (or no weight) is left.

    Raises
    ------
    ValueError
        For negative or infinite values or weights, or ``weights`` of another length.

    Examples
    --------
    >>> gini([1, 2, 3, 4])
    0.25
    >>> gini([1, 2, 3, 4, float("nan")])
    0.25
    >>> gini([1, 3], weights=[3, 1])  # as gini([1, 1, 1, 3])
    0.25
    """
    x, w = _clean(values, weights)
    total_weight, total_value = float(w.sum()), float((w * x).sum())
    if len(x) == 0 or total_weight == 0:
        return math.nan
    if total_value == 0:
        return 0.0
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    # Sorted ascending, sum_ij w_i w_j |x_i - x_j| = 2 sum_i w_i x_i (W_below_i - W_above_i).
    cumulative = np.cumsum(w)
    signed = float((w * x * (2 * cumulative - w - total_weight)).sum())
    return max(0.0, signed / (total_weight * total_value))


def theil(values: Values, weights: Values | None = None) -> float:
    """Theil T index (generalised entropy with alpha = 1).

    ``T = sum_i s_i ln(x_i / mean)`` with ``s_i = w_i x_i / sum_j w_j x_j`` each area's share of
    the total, using ``0 ln 0 = 0`` so areas with a zero value are allowed.

    Parameters
    ----------
    values : array-like of float
        The indicator per area; ``NaN`` (no data) is excluded.
    weights : array-like of float, optional
        Weight per area, usually population; areas whose weight is ``NaN`` are excluded.

    Returns
    -------
    float
        0 when all areas are equal, at most ``ln(W / w_min)``. ``0.0`` for a single area or
        all-zero values; ``NaN`` when no area (or no weight) is left.

    Raises
    ------
    ValueError
        For negative or infinite values or weights, or ``weights`` of another length.

    Examples
    --------
    >>> theil([2, 2, 2])
    0.0
    >>> round(theil([0, 1]), 6)  # 1 * ln(1 / 0.5) = ln 2
    0.693147
    """
    x, w = _clean(values, weights)
    return _theil(x, w)


def theil_decomposition(
    frame: pd.DataFrame, value_col: str, group_col: str, weight_col: str | None = None
) -> TheilDecomposition:
    """Split the Theil T index of areas into between-group and within-group parts.

    With groups ``g`` of value share ``S_g``, mean ``mean_g`` and own index ``T_g``:
    ``between = sum_g S_g ln(mean_g / mean)`` and ``within = sum_g S_g T_g``; their sum is the
    total. Typical use: NUTS-2 regions grouped by country, to tell how much of the inequality
    lies between countries.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per area.
    value_col : str
        Column with the indicator; rows where it is ``NaN`` (no data) are excluded.
    group_col : str
        Column with the group of each area; rows without a group are excluded.
    weight_col : str, optional
        Column with the weight of each area (population); rows where it is ``NaN`` are excluded.

    Returns
    -------
    TheilDecomposition
        ``total``, ``between`` and ``within`` (``NaN`` if no row is left, ``0.0`` if all values
        are zero) and a per-group table.

    Raises
    ------
    ValueError
        If a column is missing, or for negative or infinite values or weights.

    Examples
    --------
    >>> areas = pd.DataFrame({"value": [1, 1, 2, 2], "country": ["A", "A", "B", "B"]})
    >>> parts = theil_decomposition(areas, "value", "country")
    >>> round(parts.within, 6), round(parts.between, 6) == round(parts.total, 6)
    (0.0, True)
    """
    columns = [value_col, group_col] + ([weight_col] if weight_col is not None else [])
    absent = [column for column in columns if column not in frame.columns]
    if absent:
        raise ValueError(f"frame has no column {', '.join(map(repr, absent))}")

    has_group = frame[group_col].notna().to_numpy()
    weights = frame[weight_col] if weight_col is not None else None
    x, w, keep = _clean_with_mask(frame[value_col], weights)
    rows = keep & has_group
    x, w = x[rows[keep]], w[rows[keep]]
    groups = frame[group_col].to_numpy()[rows]

    total = _theil(x, w)
    total_weight, total_value = float(w.sum()), float((w * x).sum())
    table = _group_table(x, w, groups, total_weight, total_value)
    table.index.name = group_col
    if math.isnan(total):
        return TheilDecomposition(math.nan, math.nan, math.nan, table)
    return TheilDecomposition(
        total=total,
        between=float(table["between_contribution"].sum()),
        within=float(table["within_contribution"].sum()),
        groups=table,
    )


def coefficient_of_variation(values: Values, weights: Values | None = None) -> float:
    """Coefficient of variation: standard deviation over mean.

    The standard deviation is the population one (``ddof=0``): the areas are all the areas, not
    a sample of them.

    Parameters
    ----------
    values : array-like of float
        The indicator per area; ``NaN`` (no data) is excluded.
    weights : array-like of float, optional
        Weight per area, usually population; areas whose weight is ``NaN`` are excluded.

    Returns
    -------
    float
        ``0.0`` for a single area or all-zero values; ``NaN`` when no area (or no weight) is
        left.

    Raises
    ------
    ValueError
        For negative or infinite values or weights, or ``weights`` of another length.

    Examples
    --------
    >>> coefficient_of_variation([1, 3])  # sd 1, mean 2
    0.5
    >>> coefficient_of_variation([1, 3], weights=[1, 1]) == coefficient_of_variation([1, 3])
    True
    """
    x, w = _clean(values, weights)
    total_weight = float(w.sum())
    if len(x) == 0 or total_weight == 0:
        return math.nan
    mean = float((w * x).sum()) / total_weight
    if mean == 0:
        return 0.0
    variance = float((w * (x - mean) ** 2).sum()) / total_weight
    return math.sqrt(variance) / mean


def max_min_ratio(values: Values) -> float:
    """Ratio of the highest to the lowest value across areas.

    Parameters
    ----------
    values : array-like of float
        The indicator per area; ``NaN`` (no data) is excluded.

    Returns
    -------
    float
        ``1.0`` for a single area; ``inf`` when the lowest value is zero and the highest is not;
        ``NaN`` when all values are zero (0 / 0) or no area is left.

    Raises
    ------
    ValueError
        For negative or infinite values.

    Examples
    --------
    >>> max_min_ratio([2.0, 5.0, 10.0, float("nan")])
    5.0
    >>> max_min_ratio([0.0, 3.0])
    inf
    """
    x, _ = _clean(values, None)
    if len(x) == 0:
        return math.nan
    highest, lowest = float(x.max()), float(x.min())
    if highest == 0:
        return math.nan
    if lowest == 0:
        return math.inf
    return highest / lowest


def benchmark_value(
    values: Values, kind: BenchmarkKind | float, *, higher_is_better: bool = True
) -> float:
    """The benchmark level that areas are compared with.

    Parameters
    ----------
    values : array-like of float
        The indicator per area; ``NaN`` (no data) is excluded.
    kind : {"eu_median", "top_quartile"} or float
        ``"eu_median"``: the median of ``values``; pass the EU-27 areas only (e.g. with
        :data:`mapping.reference.EU27_ISO2`) to get the EU median.
        ``"top_quartile"``: the level the best quarter of areas reaches: the 75th percentile
        of ``values`` (linear interpolation), or the 25th when lower is better.
        A number: a fixed target such as a recommended rate per million, returned as is.
    higher_is_better : bool, default True
        The indicator's direction; False for waiting times (the best quarter waits least).

    Returns
    -------
    float
        The benchmark; ``NaN`` for ``"eu_median"`` or ``"top_quartile"`` when no area is left.

    Raises
    ------
    ValueError
        For an unknown kind, a negative or non-finite number, or negative or infinite values.

    Examples
    --------
    >>> benchmark_value([1, 2, 3, 4], "eu_median")
    2.5
    >>> benchmark_value([1, 2, 3, 4], "top_quartile")  # 3 + 0.25 * (4 - 3)
    3.25
    >>> benchmark_value([1, 2, 3, 4], "top_quartile", higher_is_better=False)  # 1 + 0.75 * 1
    1.75
    >>> benchmark_value([1, 2, 3, 4], 5)
    5.0
    """
    if isinstance(kind, str):
        if kind not in BENCHMARK_KINDS:
            raise ValueError(
                f"unknown benchmark {kind!r}: use one of {', '.join(BENCHMARK_KINDS)} or a number"
            )
        x, _ = _clean(values, None)
        if len(x) == 0:
            return math.nan
        if kind == "eu_median":
            return float(np.median(x))
        return float(np.quantile(x, 0.75 if higher_is_better else 0.25))
    if isinstance(kind, bool) or not isinstance(kind, int | float):
        raise ValueError(f"benchmark must be {' or '.join(BENCHMARK_KINDS)} or a number")
    target = float(kind)
    if not math.isfinite(target) or target < 0:
        raise ValueError(f"benchmark must be a finite, non-negative number, got {kind!r}")
    return target


def gap_to_benchmark(
    values: Values,
    benchmark: BenchmarkKind | float,
    *,
    relative: bool = False,
    higher_is_better: bool = True,
) -> pd.Series[float]:
    """How far each area falls short of a benchmark: below it, or above it when lower is better.

    Parameters
    ----------
    values : array-like of float
        The indicator per area. ``NaN`` (no data) stays ``NaN`` in the result: an area without
        data has an unknown gap, not a zero one; it is also left out of a computed benchmark.
    benchmark : {"eu_median", "top_quartile"} or float
        See :func:`benchmark_value`.
    relative : bool, default False
        Return the gap as a fraction of the benchmark (``0.0`` everywhere if the benchmark is 0).
    higher_is_better : bool, default True
        The indicator's direction. When lower is better (waiting times) the gap is the excess
        over the benchmark, and the areas at or below it have none.

    Returns
    -------
    pandas.Series
        ``max(0, benchmark - value)`` per area (``max(0, value - benchmark)`` when lower is
        better), named ``"gap"``, indexed like ``values`` when it is a Series; areas that meet
        the benchmark get 0.

    Raises
    ------
    ValueError
        For negative or infinite values, or an invalid benchmark.

    Examples
    --------
    >>> gap_to_benchmark(pd.Series([1.0, 4.0, None], index=["AT", "BE", "BG"]), 3.0)
    AT    2.0
    BE    0.0
    BG    NaN
    Name: gap, dtype: float64
    >>> gap_to_benchmark([2.0, 6.0], 4.0, higher_is_better=False).tolist()  # weeks of waiting
    [0.0, 2.0]
    """
    x = _as_float_array(values, "values")
    _check_range(x, "values")
    target = benchmark_value(x, benchmark, higher_is_better=higher_is_better)
    shortfall = target - x if higher_is_better else x - target
    gap = np.where(np.isnan(x), np.nan, np.maximum(shortfall, 0.0))
    if relative:
        gap = gap / target if target > 0 else np.where(np.isnan(x), np.nan, 0.0)
    return pd.Series(gap, index=_index_of(values), name="gap", dtype="float64")


def units_needed(
    rates: Values, populations: Values, benchmark_rate_per_million: BenchmarkKind | float
) -> pd.Series[int]:
    """Units (scanners, linacs, centres) each area needs to reach a benchmark rate.

    ``ceil(max(0, benchmark * population / 1e6 - current_units))``, where ``current_units =
    rate * population / 1e6``. A shortfall below a millionth of a unit counts as zero, so that
    floating-point noise does not add a unit.

    Parameters
    ----------
    rates : array-like of float
        Current units per million population in each area; ``NaN`` (no data) gives ``<NA>``.
    populations : array-like of float
        Population of each area, in the same order; ``NaN`` gives ``<NA>``.
    benchmark_rate_per_million : {"eu_median", "top_quartile"} or float
        Target units per million; see :func:`benchmark_value` (computed from ``rates``).

    Returns
    -------
    pandas.Series
        Nullable integers (``Int64``) named ``"units_needed"``, indexed like ``rates`` when it is
        a Series.

    Raises
    ------
    ValueError
        For negative or infinite rates or populations, inputs of different lengths (or Series
        with different indexes), or an invalid benchmark.

    Examples
    --------
    >>> units_needed([1.0, 3.0, 2.5], [2_000_000, 1_000_000, 4_000_000], 2.0)
    0    2
    1    0
    2    0
    Name: units_needed, dtype: Int64
    """
    rate = _as_float_array(rates, "rates")
    population = _as_float_array(populations, "populations")
    _check_same_shape(rates, populations, rate, population, "populations")
    _check_range(rate, "rates")
    _check_range(population, "populations")
    target = benchmark_value(rate, benchmark_rate_per_million)
    shortfall = (target - rate) * population / 1e6
    needed = np.ceil(np.maximum(shortfall - _UNIT_TOLERANCE, 0.0))
    result = pd.Series(needed, index=_index_of(rates), name="units_needed").astype("Int64")
    return result


# --- shared checks ---------------------------------------------------------------------------


def _theil(x: FloatArray, w: FloatArray) -> float:
    total_weight, total_value = float(w.sum()), float((w * x).sum())
    if len(x) == 0 or total_weight == 0:
        return math.nan
    if total_value == 0:
        return 0.0
    mean = total_value / total_weight
    share = w * x / total_value
    positive = share > 0  # 0 ln 0 = 0: areas with nothing (or no weight) add nothing
    return max(0.0, float((share[positive] * np.log(x[positive] / mean)).sum()))


def _group_table(
    x: FloatArray,
    w: FloatArray,
    groups: npt.NDArray[Any],
    total_weight: float,
    total_value: float,
) -> pd.DataFrame:
    mean = total_value / total_weight if total_weight > 0 else math.nan
    rows = []
    for group in pd.unique(groups):
        member = groups == group
        gx, gw = x[member], w[member]
        group_weight, group_value = float(gw.sum()), float((gw * gx).sum())
        value_share = group_value / total_value if total_value > 0 else 0.0
        group_mean = group_value / group_weight if group_weight > 0 else math.nan
        group_theil = _theil(gx, gw)
        # A group holding nothing contributes nothing (0 ln 0 = 0).
        between = value_share * math.log(group_mean / mean) if value_share > 0 else 0.0
        within = value_share * group_theil if value_share > 0 else 0.0
        rows.append(
            {
                "group": group,
                "weight_share": group_weight / total_weight if total_weight > 0 else math.nan,
                "value_share": value_share,
                "mean": group_mean,
                "theil": group_theil,
                "between_contribution": between,
                "within_contribution": within,
            }
        )
    columns = [
        "weight_share",
        "value_share",
        "mean",
        "theil",
        "between_contribution",
        "within_contribution",
    ]
    return pd.DataFrame(rows, columns=["group", *columns]).set_index("group")


def _clean(values: Values, weights: Values | None) -> tuple[FloatArray, FloatArray]:
    x, w, _ = _clean_with_mask(values, weights)
    return x, w


def _clean_with_mask(
    values: Values, weights: Values | None
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Drop areas without data; return kept values, kept weights and the mask of kept areas."""
    x = _as_float_array(values, "values")
    _check_range(x, "values")
    if weights is None:
        w = np.ones_like(x)
    else:
        w = _as_float_array(weights, "weights")
        _check_same_shape(values, weights, x, w, "weights")
        _check_range(w, "weights")
    keep = ~(np.isnan(x) | np.isnan(w))
    return x[keep], w[keep], keep


def _as_float_array(values: Values, name: str) -> FloatArray:
    if isinstance(values, pd.Series):
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _check_range(array: FloatArray, name: str) -> None:
    if np.isinf(array).any():
        raise ValueError(f"{name} must be finite (use NaN for no data)")
    if (array < 0).any():  # NaN compares False
        raise ValueError(f"{name} must not be negative, got {float(np.nanmin(array))}")


def _check_same_shape(
    first: Values, second: Values, first_array: FloatArray, second_array: FloatArray, name: str
) -> None:
    if first_array.shape != second_array.shape:
        raise ValueError(
            f"{name} has {len(second_array)} entries but there are {len(first_array)} values"
        )
    if (
        isinstance(first, pd.Series)
        and isinstance(second, pd.Series)
        and not first.index.equals(second.index)
    ):
        raise ValueError(f"{name} is indexed differently from the values; align them first")


def _index_of(values: Values) -> pd.Index[Any] | None:
    return values.index if isinstance(values, pd.Series) else None
