"""Choropleth classes: which class each area's value falls in, with explicit bounds.

A map legend is only honest when its classes are explicit: every class has a lower and an upper
bound, "no data" is a class of its own (never class 0, never drawn as zero) and an area where few
of the expected centres answered is shown as "low coverage" rather than as a low value.

Three schemes, the usual ones for choropleths (see ``docs/maps.md``):

``"quantiles"``
    Each class holds about the same number of areas (``mapclassify.Quantiles``' definition;
    where ties make quantiles coincide, they merge into fewer classes).
``"natural_breaks"``
    Fisher-Jenks optimal breaks: the classes minimise the squared deviations from the class means.
    This is the exact, deterministic solution that Jenks' "natural breaks" approximate; the
    k-means heuristic (``mapclassify.NaturalBreaks``) starts from random centroids and can give
    different breaks on each run, which a published figure must not. The breaks are computed by
    a vectorised version of the Fisher (1958) dynamic programme over the distinct values (see
    :func:`_fisher_jenks_bins`); it returns the breaks of ``mapclassify.FisherJenks``, which the
    tests check, without needing numba (without it, mapclassify's version takes seconds for
    a few thousand values and warns).
``"equal_interval"``
    Classes of equal width between the minimum and the maximum (``mapclassify.EqualInterval``).

Classes are closed on the right: a value ``v`` is in class ``i`` when
``lower_i < v <= upper_i``; the first class also holds its lower bound (the minimum).

Why one module past 400 lines: the schemes, the no-data and low-coverage classes and the
legend they produce must agree on one set of bounds; half of it is worked examples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

Scheme: TypeAlias = Literal["quantiles", "natural_breaks", "equal_interval"]
SCHEMES: tuple[Scheme, ...] = ("quantiles", "natural_breaks", "equal_interval")

NO_DATA = -1
"""Class code of an area without a value."""
LOW_COVERAGE = -2
"""Class code of an area whose value rests on too few responding centres."""

OUTSIDE_STUDY = -3
"""Class code of a drawn area the study does not cover (not in the map's table): it is neither
a value nor missing data, and is drawn neutral grey."""

NO_DATA_LABEL = "No data"
LOW_COVERAGE_LABEL = "Low coverage"
OUTSIDE_STUDY_LABEL = "Outside the study"

_RANGE = " \u2013 "  # an en dash between spaces: "1.5 - 3.0" with the dash of a range

MAX_CLASSES = 9
"""More classes than this cannot be told apart on a sequential palette."""


@dataclass(frozen=True)
class ValueClass:
    """One class of values: ``lower < value <= upper`` (the first class includes ``lower``).

    Attributes
    ----------
    index : int
        Position of the class, 0 for the lowest values.
    lower, upper : float
        The class bounds.
    label : str
        The bounds as the legend shows them: ``"1.5 - 3.0"`` for the first class and
        ``"> 3.0 - 4.5"`` for the next ones (with an en dash, not a hyphen), or just the value
        when a class holds a single value.
    """

    index: int
    lower: float
    upper: float
    label: str


@dataclass(frozen=True)
class LegendEntry:
    """One row of a legend: a value class, "no data" or "low coverage".

    Attributes
    ----------
    code : int
        The class code areas carry: ``0 .. k-1``, :data:`NO_DATA` or :data:`LOW_COVERAGE`.
    label : str
        What the legend says.
    count : int
        How many areas are in the class.
    """

    code: int
    label: str
    count: int


@dataclass(frozen=True)
class Classification:
    """Areas' values sorted into explicit classes.

    Attributes
    ----------
    scheme : str
        ``"quantiles"``, ``"natural_breaks"`` or ``"equal_interval"``.
    k : int
        The number of classes asked for. ``len(classes)`` can be smaller, when there are fewer
        distinct values than ``k`` or quantiles coincide.
    classes : tuple of ValueClass
        The value classes, lowest first.
    codes : pandas.Series
        The class code of each area (``int64``, indexed like the values): ``0 .. len(classes)-1``
        for a value class, :data:`NO_DATA` for a missing value, :data:`LOW_COVERAGE` for a
        low-coverage area.
    """

    scheme: Scheme
    k: int
    classes: tuple[ValueClass, ...]
    codes: pd.Series[int]

    @property
    def bounds(self) -> tuple[float, ...]:
        """The class bounds: the lowest lower bound, then each class's upper bound."""
        if not self.classes:
            return ()
        return (self.classes[0].lower, *(c.upper for c in self.classes))

    def legend(self, drawn: Sequence[Any] | None = None) -> list[LegendEntry]:
        """The legend rows: every value class, then "no data", "low coverage" and "outside the
        study" if used.

        The counts are those of the classified areas, the rows of the map's table. ``drawn``
        are the ids of the areas a map draws: those the classification does not name are
        outside the study and counted in a row of their own.

        A value class is listed even when no area of this map falls in it, so maps that share
        their classes (:func:`shared_classification`) have identical legends.

        Examples
        --------
        >>> result = classify(pd.Series([1.0, None], index=["AT", "BE"]), "quantiles", k=1)
        >>> [(e.label, e.count) for e in result.legend(drawn=["AT", "BE", "CH", "NO"])]
        [('1', 1), ('No data', 1), ('Outside the study', 2)]
        """
        counts = self.codes.value_counts()
        entries = [LegendEntry(c.index, c.label, int(counts.get(c.index, 0))) for c in self.classes]
        for code, label in ((NO_DATA, NO_DATA_LABEL), (LOW_COVERAGE, LOW_COVERAGE_LABEL)):
            if code in counts.index:
                entries.append(LegendEntry(code, label, int(counts[code])))
        outside = 0 if drawn is None else int((self.drawn_codes(drawn) == OUTSIDE_STUDY).sum())
        if outside:
            entries.append(LegendEntry(OUTSIDE_STUDY, OUTSIDE_STUDY_LABEL, outside))
        return entries

    def drawn_codes(self, drawn: Sequence[Any]) -> npt.NDArray[np.int64]:
        """The class code of each drawn area: :data:`OUTSIDE_STUDY` for an area the
        classification does not name.

        Examples
        --------
        >>> result = classify(pd.Series([1.0, None], index=["AT", "BE"]), "quantiles", k=1)
        >>> result.drawn_codes(["BE", "CH", "AT"]).tolist()
        [-1, -3, 0]
        """
        codes = self.codes.reindex(list(drawn)).fillna(OUTSIDE_STUDY)
        return np.asarray(codes, dtype=np.int64)

    def label_of(self, code: int) -> str:
        """The legend label of a class code."""
        if code == NO_DATA:
            return NO_DATA_LABEL
        if code == LOW_COVERAGE:
            return LOW_COVERAGE_LABEL
        if code == OUTSIDE_STUDY:
            return OUTSIDE_STUDY_LABEL
        return self.classes[code].label


def classify(
    values: pd.Series[Any],
    scheme: Scheme,
    k: int = 5,
    *,
    low_coverage: pd.Series[bool] | None = None,
) -> Classification:
    """Sort areas into ``k`` classes of their values for a choropleth.

    Missing values (``NaN``) go to the "no data" class, apart from the value classes. Areas
    flagged in ``low_coverage`` go to the "low coverage" class and do not shape the classes:
    their values rest on too few answers. A missing value is "no data" even when flagged.

    Parameters
    ----------
    values : pandas.Series
        The indicator per area, e.g. indexed by area code.
    scheme : {"quantiles", "natural_breaks", "equal_interval"}
        How to place the class bounds (see the module docstring).
    k : int, default 5
        The number of classes, 1 to 9. Fewer are made when there are fewer distinct values.
    low_coverage : pandas.Series of bool, optional
        ``True`` for the low-coverage areas; aligned to ``values`` by index, missing means
        ``False``.

    Returns
    -------
    Classification
        The classes with their bounds and the class code of every area.

    Raises
    ------
    ValueError
        For an unknown scheme, ``k`` outside 1 to 9, infinite values or a ``low_coverage``
        index that does not match ``values``.

    Examples
    --------
    >>> import pandas as pd
    >>> values = pd.Series([1.0, 2.0, 3.0, 4.0, None, 6.0], index=list("ABCDEF"))
    >>> result = classify(values, "equal_interval", k=2)
    >>> [(c.lower, c.upper) for c in result.classes]
    [(1.0, 3.5), (3.5, 6.0)]
    >>> result.codes.tolist()  # E has no data: -1
    [0, 0, 0, 1, -1, 1]
    >>> flagged = pd.Series([False, False, False, False, False, True], index=list("ABCDEF"))
    >>> classify(values, "equal_interval", k=2, low_coverage=flagged).codes.tolist()
    [0, 0, 1, 1, -1, -2]
    """
    return shared_classification([values], scheme, k, low_coverage=[low_coverage])[0]


def shared_classification(
    series_list: Sequence[pd.Series[Any]],
    scheme: Scheme,
    k: int = 5,
    *,
    low_coverage: Sequence[pd.Series[bool] | None] | None = None,
) -> list[Classification]:
    """Classify several comparable maps with the same classes.

    The class bounds are computed once, on the values of all the series together (for example
    one indicator in several survey waves, or per-million rates of several technologies), so
    a colour means the same value on every map of the series.

    Parameters
    ----------
    series_list : sequence of pandas.Series
        One series of values per map.
    scheme : {"quantiles", "natural_breaks", "equal_interval"}
        How to place the class bounds.
    k : int, default 5
        The number of classes, 1 to 9.
    low_coverage : sequence of (pandas.Series of bool or None), optional
        One low-coverage mask per map (see :func:`classify`); low-coverage values do not shape
        the shared classes.

    Returns
    -------
    list of Classification
        One per series, in order, all with the same ``classes``.

    Raises
    ------
    ValueError
        As :func:`classify`, or when ``low_coverage`` has another length than ``series_list``.

    Examples
    --------
    >>> import pandas as pd
    >>> wave_1 = pd.Series([1.0, 2.0, 3.0], index=["AT", "BE", "CY"])
    >>> wave_2 = pd.Series([3.0, 5.0, 7.0], index=["AT", "BE", "CY"])
    >>> first, second = shared_classification([wave_1, wave_2], "equal_interval", k=3)
    >>> first.classes == second.classes
    True
    >>> [(c.lower, c.upper) for c in first.classes]
    [(1.0, 3.0), (3.0, 5.0), (5.0, 7.0)]
    >>> first.codes.tolist(), second.codes.tolist()
    ([0, 0, 0], [0, 1, 2])
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    if not 1 <= k <= MAX_CLASSES:
        raise ValueError(f"k must be between 1 and {MAX_CLASSES}, got {k}")
    masks = list(low_coverage) if low_coverage is not None else [None] * len(series_list)
    if len(masks) != len(series_list):
        raise ValueError(
            f"low_coverage has {len(masks)} masks for {len(series_list)} series; "
            "pass one mask (or None) per series"
        )

    prepared = [_prepare(values, mask) for values, mask in zip(series_list, masks, strict=True)]
    pooled = np.concatenate(
        [numbers[~np.isnan(numbers) & ~flags] for numbers, flags in prepared] or [np.empty(0)]
    )
    classes = _value_classes(_bins(pooled, scheme, k), pooled)

    result = []
    for values, (numbers, flags) in zip(series_list, prepared, strict=True):
        codes = np.full(len(numbers), NO_DATA, dtype=np.int64)
        present = ~np.isnan(numbers)
        if classes:
            uppers = np.array([c.upper for c in classes])
            # Closed on the right: the first upper bound >= v. Values above the top bound
            # can only be low-coverage ones, which are recoded below.
            position = np.searchsorted(uppers, numbers[present], side="left")
            codes[present] = np.minimum(position, len(classes) - 1)
        codes[present & flags] = LOW_COVERAGE
        result.append(
            Classification(
                scheme=scheme,
                k=k,
                classes=classes,
                codes=pd.Series(codes, index=values.index, name="class_code"),
            )
        )
    return result


def _prepare(
    values: pd.Series[Any], mask: pd.Series[bool] | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    numbers = pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(numbers).any():
        raise ValueError("values must be finite; use NaN for an area without data")
    if mask is None:
        return numbers, np.zeros(len(numbers), dtype=bool)
    if not mask.index.isin(values.index).all():
        extra = [str(label) for label in mask.index[~mask.index.isin(values.index)][:5]]
        raise ValueError(f"low_coverage names areas that have no value: {', '.join(extra)}")
    flags = mask.reindex(values.index).astype("boolean").fillna(False).to_numpy(dtype=bool)
    return numbers, flags


def _bins(values: npt.NDArray[np.float64], scheme: Scheme, k: int) -> npt.NDArray[np.float64]:
    """Upper bounds of the classes, ascending and distinct."""
    distinct = np.unique(values)
    if len(distinct) == 0:
        return np.empty(0)
    k = min(k, len(distinct))
    if k == 1:
        return distinct[-1:]
    if scheme == "quantiles":
        # mapclassify.Quantiles' definition (linearly interpolated percentiles at 100/k steps,
        # coinciding ones merged), computed here because mapclassify warns when ties merge
        # quantiles, and fewer classes than asked is an expected outcome, not a warning.
        bins = np.percentile(values, np.linspace(100 / k, 100, k))
    elif scheme == "equal_interval":
        # Imported here: mapclassify loads scipy, scikit-learn and matplotlib (seconds), and
        # only this scheme needs it; the CLI and the server start without it.
        import mapclassify

        bins = mapclassify.EqualInterval(values, k=k).bins
    else:
        bins = _fisher_jenks_bins(distinct, np.unique(values, return_counts=True)[1], k)
    return np.unique(np.asarray(bins, dtype=np.float64))


def _fisher_jenks_bins(
    distinct: npt.NDArray[np.float64], counts: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.float64]:
    """Fisher-Jenks optimal breaks of sorted distinct values with their counts.

    Dynamic programme: ``cost[c][j]`` is the least within-class sum of squared deviations of
    the first ``j + 1`` distinct values in ``c + 1`` classes, and ``cost[c][j] = min_i
    cost[c-1][i-1] + ssd(i, j)``. Working on distinct values is exact for value-based classes
    (tied values always share a class) and makes ``n`` the number of distinct values.
    """
    n = len(distinct)
    x = distinct - distinct.mean()  # centred: the prefix sums lose less precision
    weight = np.concatenate([[0.0], np.cumsum(counts, dtype=np.float64)])
    first = np.concatenate([[0.0], np.cumsum(counts * x)])
    second = np.concatenate([[0.0], np.cumsum(counts * x * x)])

    def ssd(start: npt.NDArray[np.int64], end: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        # Squared deviations of the distinct values start..end (inclusive) from their mean.
        w = weight[end + 1] - weight[start]
        s = first[end + 1] - first[start]
        result: npt.NDArray[np.float64] = second[end + 1] - second[start] - s * s / w
        return result

    index = np.arange(n)
    cost = ssd(np.zeros(n, dtype=np.int64), index)  # one class
    split = np.zeros((k, n), dtype=np.int64)  # where the last of c + 1 classes starts
    for c in range(1, k):
        new_cost = np.full(n, math.inf)
        for j in range(c, n):
            starts = index[c : j + 1]
            candidates = cost[starts - 1] + ssd(starts, np.full(len(starts), j))
            best = int(np.argmin(candidates))
            new_cost[j] = candidates[best]
            split[c, j] = starts[best]
        cost = new_cost

    uppers = [distinct[n - 1]]
    end = n - 1
    for c in range(k - 1, 0, -1):
        end = int(split[c, end]) - 1
        uppers.append(distinct[end])
    return np.array(uppers[::-1])


def _value_classes(
    bins: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
) -> tuple[ValueClass, ...]:
    if len(bins) == 0:
        return ()
    lowers = [float(values.min()), *(float(b) for b in bins[:-1])]
    uppers = [float(b) for b in bins]
    decimals = _label_decimals([lowers[0], *uppers])
    classes = []
    for index, (lower, upper) in enumerate(zip(lowers, uppers, strict=True)):
        low, high = _format_bound(lower, decimals), _format_bound(upper, decimals)
        if lower == upper:
            label = high
        elif index == 0:
            label = f"{low}{_RANGE}{high}"
        else:
            label = f"> {low}{_RANGE}{high}"
        classes.append(ValueClass(index, lower, upper, label))
    return tuple(classes)


def _label_decimals(bounds: list[float]) -> int:
    """Decimals for the legend: exact bounds if that takes few, else about four figures."""
    spread = max(abs(b) for b in bounds) or 1.0
    most = max(0, 3 - math.floor(math.log10(spread)))
    for decimals in range(most + 1):
        if all(abs(round(b, decimals) - b) <= 1e-9 * max(1.0, abs(b)) for b in bounds):
            return decimals
    # Not exact at that precision: keep adding decimals until the bounds are told apart.
    decimals = most
    while decimals < 10 and len({_format_bound(b, decimals) for b in bounds}) < len(set(bounds)):
        decimals += 1
    return decimals


def _format_bound(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"
