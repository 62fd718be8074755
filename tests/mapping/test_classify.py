import warnings

import mapclassify
import numpy as np
import pandas as pd
import pytest

from mapping.classify import (
    LOW_COVERAGE,
    NO_DATA,
    OUTSIDE_STUDY,
    SCHEMES,
    Scheme,
    classify,
    shared_classification,
)

NAN = float("nan")


def series(*values: float) -> pd.Series:
    return pd.Series(values, index=[f"A{i}" for i in range(len(values))], dtype="float64")


# --- classify: the three schemes ---------------------------------------------------------------


def test_equal_interval_bounds_are_explicit_and_closed_on_the_right() -> None:
    # min 0, max 10, k 5: width 2, bounds 0 | 2 | 4 | 6 | 8 | 10. A value on a bound (2, 4)
    # belongs to the class below it; the minimum belongs to the first class.
    result = classify(series(0, 2, 3, 4, 10), "equal_interval", k=5)
    assert result.bounds == (0, 2, 4, 6, 8, 10)
    assert result.codes.tolist() == [0, 0, 1, 1, 4]
    assert [c.label for c in result.classes] == [
        "0 \u2013 2",
        "> 2 \u2013 4",
        "> 4 \u2013 6",
        "> 6 \u2013 8",
        "> 8 \u2013 10",
    ]


def test_quantiles_put_about_the_same_number_of_areas_in_each_class() -> None:
    values = series(*range(1, 21))
    result = classify(values, "quantiles", k=4)
    assert result.codes.value_counts().sort_index().tolist() == [5, 5, 5, 5]
    expected = mapclassify.Quantiles(values.to_numpy(), k=4).bins
    assert result.bounds[1:] == pytest.approx(expected)


def test_natural_breaks_find_the_obvious_groups() -> None:
    # Three clusters far apart: Fisher-Jenks puts each in its own class.
    result = classify(series(1, 1.2, 1.1, 50, 52, 51, 100, 101), "natural_breaks", k=3)
    assert result.bounds == (1, 1.2, 52, 101)
    assert result.codes.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]


@pytest.mark.parametrize(("n", "k", "seed"), [(40, 5, 1), (120, 7, 2), (60, 9, 3)])
def test_natural_breaks_match_mapclassify_fisher_jenks(n: int, k: int, seed: int) -> None:
    values = np.random.default_rng(seed).gamma(2.0, 3.0, n)
    with warnings.catch_warnings():
        # mapclassify warns that numba is absent and falls back to pure Python: irrelevant here.
        warnings.filterwarnings("ignore", message="Numba not installed", category=UserWarning)
        expected = mapclassify.FisherJenks(values, k=k).bins
    result = classify(pd.Series(values), "natural_breaks", k=k)
    assert result.bounds[1:] == pytest.approx(expected)


def test_natural_breaks_are_the_same_on_every_run() -> None:
    values = pd.Series(np.random.default_rng(7).lognormal(1, 1, 300))
    runs = {classify(values, "natural_breaks", k=6).bounds for _ in range(3)}
    assert len(runs) == 1


# --- no data and low coverage --------------------------------------------------------------------


def test_missing_values_are_no_data_never_class_zero() -> None:
    result = classify(series(NAN, 0, 5, NAN, 10), "equal_interval", k=2)
    assert result.codes.tolist() == [NO_DATA, 0, 0, NO_DATA, 1]
    # Zero is a value (class 0); no data is a class of its own, listed after the value classes.
    assert [(e.code, e.label, e.count) for e in result.legend()] == [
        (0, "0 \u2013 5", 2),
        (1, "> 5 \u2013 10", 1),
        (NO_DATA, "No data", 2),
    ]


def test_drawn_areas_outside_the_classification_are_outside_the_study_and_counted_apart() -> None:
    result = classify(series(1, NAN, 3), "equal_interval", k=1)
    drawn = ["A0", "A1", "A2", "CH", "NO", "TR"]
    assert result.drawn_codes(drawn).tolist() == [0, NO_DATA, 0, OUTSIDE_STUDY, OUTSIDE_STUDY, -3]
    # The counts are the table's (three areas: two with a value, one without), and the areas
    # drawn for context are a row of their own, never "no data".
    assert [(e.label, e.count) for e in result.legend(drawn)] == [
        ("1 \u2013 3", 2),
        ("No data", 1),
        ("Outside the study", 3),
    ]
    assert [e.label for e in result.legend()] == ["1 \u2013 3", "No data"]
    assert result.label_of(OUTSIDE_STUDY) == "Outside the study"


def test_low_coverage_areas_are_a_class_apart_and_do_not_shape_the_classes() -> None:
    values = series(1, 2, 3, 4, 1000, NAN)
    flagged = pd.Series([False, False, False, False, True, True], index=values.index)
    result = classify(values, "equal_interval", k=3, low_coverage=flagged)
    # 1000 rests on too few answers: the classes span 1 to 4 only.
    assert result.bounds == (1, 2, 3, 4)
    # A flagged area without a value is still "no data".
    assert result.codes.tolist() == [0, 0, 1, 2, LOW_COVERAGE, NO_DATA]
    assert result.legend()[-2:][0].label == "No data"
    assert result.label_of(LOW_COVERAGE) == "Low coverage"


def test_low_coverage_mask_aligns_by_index_and_missing_means_false() -> None:
    values = series(1, 2, 3)
    flagged = pd.Series([True], index=["A2"])
    assert classify(values, "quantiles", k=3, low_coverage=flagged).codes.tolist() == [
        0,
        1,
        LOW_COVERAGE,
    ]


def test_low_coverage_mask_for_unknown_areas_is_refused() -> None:
    with pytest.raises(ValueError, match="ZZ"):
        classify(series(1, 2), "quantiles", low_coverage=pd.Series([True], index=["ZZ"]))


# --- few values ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_fewer_distinct_values_than_classes_gives_fewer_classes(scheme: Scheme) -> None:
    result = classify(series(2, 2, 2, 5, NAN), scheme, k=5)
    assert len(result.classes) == 2
    assert result.codes.tolist() == [0, 0, 0, 1, NO_DATA]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_single_value_is_one_class_labelled_by_the_value(scheme: Scheme) -> None:
    result = classify(series(3, 3, 3), scheme, k=5)
    assert [c.label for c in result.classes] == ["3"]
    assert result.codes.tolist() == [0, 0, 0]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_no_values_at_all_gives_no_classes(scheme: Scheme) -> None:
    result = classify(series(NAN, NAN), scheme, k=5)
    assert result.classes == ()
    assert result.codes.tolist() == [NO_DATA, NO_DATA]
    assert [e.label for e in result.legend()] == ["No data"]


def test_ties_that_merge_quantiles_give_fewer_classes_without_warning() -> None:
    # Eight zeros out of ten: the 20%, 40%, 60% and 80% quantiles are all 0.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = classify(series(0, 0, 0, 0, 0, 0, 0, 0, 1, 2), "quantiles", k=5)
    assert result.bounds == (0, 0, 2)
    assert result.codes.tolist() == [0] * 8 + [1, 1]


def test_labels_use_enough_decimals_to_tell_the_bounds_apart() -> None:
    result = classify(series(0.12, 0.5, 1.33, 2.0), "equal_interval", k=2)
    assert [c.label for c in result.classes] == ["0.12 \u2013 1.06", "> 1.06 \u2013 2.00"]
    big = classify(series(1_000, 250_000), "equal_interval", k=2)
    assert [c.label for c in big.classes] == ["1,000 \u2013 125,500", "> 125,500 \u2013 250,000"]


# --- errors -------------------------------------------------------------------------------------


def test_unknown_scheme_k_out_of_range_and_infinite_values_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown scheme"):
        classify(series(1, 2), "jenks")  # type: ignore[arg-type]  # the wrong value on purpose
    with pytest.raises(ValueError, match="k must be between 1 and 9"):
        classify(series(1, 2), "quantiles", k=10)
    with pytest.raises(ValueError, match="finite"):
        classify(series(1, float("inf")), "quantiles")


# --- shared_classification ----------------------------------------------------------------------


def test_comparable_maps_share_their_classes() -> None:
    wave_1 = series(1, 2, 3, 4)
    wave_2 = series(5, 6, 7, 8)
    first, second = shared_classification([wave_1, wave_2], "equal_interval", k=4)
    assert first.classes == second.classes
    assert first.bounds == (1, 2.75, 4.5, 6.25, 8)
    assert first.codes.tolist() == [0, 0, 1, 1]
    assert second.codes.tolist() == [2, 2, 3, 3]
    # Each legend lists every shared class, with this map's counts.
    assert [e.count for e in first.legend()] == [2, 2, 0, 0]


def test_shared_classification_takes_one_mask_per_map() -> None:
    maps = [series(1, 2, 100), series(3, 4, 5)]
    masks = [pd.Series([False, False, True], index=maps[0].index), None]
    first, second = shared_classification(maps, "equal_interval", k=2, low_coverage=masks)
    assert first.bounds == (1, 3, 5)
    assert first.codes.tolist() == [0, 0, LOW_COVERAGE]
    assert second.codes.tolist() == [0, 1, 1]  # 3 is the upper bound of the first class
    with pytest.raises(ValueError, match="one mask"):
        shared_classification(maps, "quantiles", low_coverage=[None])
