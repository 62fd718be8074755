"""The sentences under a map: the denominators' sources and years, as the table gives them."""

from __future__ import annotations

import pandas as pd

from mapping.indicators import IndicatorSpec
from mapping.notes import denominator_note

PER_MILLION = IndicatorSpec("u", "f", "${units}", "sum", "population_per_million", {}, {})


def table(rows: list[tuple[float | None, str | None, int | None, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "denominator": [r[0] for r in rows],
            "denominator_source": [r[1] for r in rows],
            "denominator_year": pd.array([r[2] for r in rows], dtype="Int64"),
            "no_data": [r[3] for r in rows],
        }
    )


def test_one_source_is_said_once_with_its_year() -> None:
    rows = table([(5e6, "Eurostat demo_pjan", 2024, False), (None, None, None, True)])
    assert denominator_note(PER_MILLION, rows) == "Population: Eurostat demo_pjan (2024)."


def test_several_sources_are_counted_and_areas_without_a_figure_named() -> None:
    rows = table(
        [
            (5e6, "Eurostat demo_r_pjan", 2024, False),
            (4e6, "Eurostat demo_r_pjan", 2024, False),
            (2e5, "approximation: GeoNames places", None, False),
            (None, None, None, False),  # answers, but no population figure: no value
        ]
    )
    assert denominator_note(PER_MILLION, rows) == (
        "Population: Eurostat demo_r_pjan (2024) for 2 areas; approximation: GeoNames places "
        "for 1 area; none for 1 area."
    )


def test_indicators_without_a_population_say_so_or_nothing() -> None:
    rows = table([(3.0, "survey responses", None, False)])
    shares = IndicatorSpec("s", "f", "${has}", "count_yes", "centres_responding", {}, {})
    waits = IndicatorSpec("w", "f", "${wait}", "median", "none", {}, {})
    assert denominator_note(shares, rows) == "Denominator: the centres that responded."
    assert denominator_note(waits, rows) == ""
