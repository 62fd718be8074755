"""Which figure divides each area: the reference year, the closest year, one NUTS version (with
the JRC converter's weights), and what a map's denominators say about themselves."""

from __future__ import annotations

import pandas as pd
import pytest

from mapping import denominators
from mapping.denominators import DenominatorSummary, in_version, nearest_year, summarise
from mapping.official import nuts_correspondence

JRC = nuts_correspondence()


def figures(*rows: tuple[str, int, int, str | None]) -> pd.DataFrame:
    """Eurostat-like figures: (code, year, value, NUTS version)."""
    return pd.DataFrame(
        [(code, year, value, "Eurostat", version) for code, year, value, version in rows],
        columns=denominators.FIGURE_COLUMNS,
    )


# --- reference_year -------------------------------------------------------------------------


def test_the_reference_year_is_what_most_respondents_answered() -> None:
    assert denominators.reference_year([2024, 2025, 2025], 2026, 2026) == 2025
    assert denominators.reference_year([2024, 2025], 2026, 2026) == 2025  # a tie: the later
    assert denominators.reference_year(["2023", "x", None, 1800], 2026, 2026) == 2023
    assert denominators.reference_year([], 2026, 2025) == 2026  # the open date's year
    assert denominators.reference_year([], None, 2025) == 2025  # the creation date's year


# --- nearest_year -----------------------------------------------------------------------------


def test_each_area_takes_the_year_closest_to_the_reference_year() -> None:
    frame = figures(
        ("AT", 2019, 1, None), ("AT", 2023, 2, None), ("AT", 2024, 3, None), ("GB", 2019, 4, None)
    ).assign(order=range(4))
    chosen = nearest_year(frame, 2025).set_index("area_code")
    assert chosen.loc["AT", "year"] == 2024
    assert chosen.loc["GB", "year"] == 2019  # the only figure, however old, and it says so
    assert nearest_year(frame, 2021).set_index("area_code").loc["AT", "year"] == 2023  # tie: later
    assert nearest_year(frame, 2019).set_index("area_code").loc["AT", "value"] == 1


def test_of_two_figures_of_a_year_the_one_loaded_last_wins() -> None:
    frame = pd.DataFrame(
        {
            "area_code": ["AT", "AT"],
            "year": [2024, 2024],
            "value": [1, 2],
            "source": ["packaged", "coordinator"],
            "order": [0, 1],
        }
    )
    assert nearest_year(frame, 2024).loc[0, "source"] == "coordinator"


# --- version_weights, in_version ----------------------------------------------------------------


def test_weights_spread_a_region_over_the_other_versions_regions() -> None:
    forward = denominators.version_weights(JRC, "2021", "2024").set_index(["from_code", "to_code"])
    pt17 = 2_062_246 + 807_501
    assert forward.loc[("PT17", "PT1A"), "weight"] == pytest.approx(2_062_246 / pt17)
    assert forward.loc[("PT17", "PT1B"), "weight"] == pytest.approx(807_501 / pt17)
    assert forward.loc[("AT11", "AT11"), "weight"] == 1.0
    back = denominators.version_weights(JRC, "2024", "2021").set_index(["from_code", "to_code"])
    ith5 = 4_418_216 + 2_417  # NUTS 2024 ITH5 took a sliver of ITI3
    assert back.loc[("ITH5", "ITI3"), "weight"] == pytest.approx(2_417 / ith5)
    assert denominators.version_weights(JRC, "2016", "2021").empty


def test_2021_figures_move_to_2024_regions_with_the_jrc_weights() -> None:
    source = figures(
        ("PT17", 2023, 2_900_000, "2021"),
        ("PT16", 2023, 2_300_000, "2021"),
        ("PT18", 2023, 700_000, "2021"),
        ("AT11", 2023, 300_000, "2021"),
        ("TR10", 2023, 15_000_000, "2021"),  # outside the correspondence: keeps its code
    )
    codes = ["PT1A", "PT1B", "PT1D", "AT11", "TR10"]
    moved = in_version(source, "2024", codes, JRC).set_index("area_code")
    pt17 = 2_062_246 + 807_501
    assert moved.loc["PT1A", "value"] == round(2_900_000 * 2_062_246 / pt17)
    assert moved.loc["PT1A", "value"] + moved.loc["PT1B", "value"] == pytest.approx(
        2_900_000, abs=1
    )
    pt16 = 1_653_511 + 573_689
    pt18 = 468_690 + 235_909
    # PT1D is made of parts of PT16 and PT18.
    assert moved.loc["PT1D", "value"] == round(
        2_300_000 * 573_689 / pt16 + 700_000 * 235_909 / pt18
    )
    assert "moved from NUTS 2021 to NUTS 2024" in moved.loc["PT1A", "source"]
    assert "JRC NUTS converter" in moved.loc["PT1A", "source"]
    # One to one: the figure is the same, and not labelled as moved.
    assert (moved.loc["AT11", "value"], moved.loc["AT11", "source"]) == (300_000, "Eurostat")
    assert (moved.loc["TR10", "value"], moved.loc["TR10", "source"]) == (15_000_000, "Eurostat")


def test_a_moved_figure_needs_every_part() -> None:
    # PT1D needs PT16 and PT18 of the same year; with PT18 missing there is no PT1D figure.
    source = figures(("PT16", 2023, 2_300_000, "2021"))
    moved = in_version(source, "2024", ["PT19", "PT1D"], JRC)
    assert set(moved["area_code"]) == {"PT19"}


def test_2024_figures_move_back_and_a_figure_of_the_version_wins() -> None:
    source = figures(
        ("ITH5", 2024, 4_450_000, "2024"),
        ("ITI3", 2024, 1_480_000, "2024"),
        ("ITI3", 2024, 1_000, "2021"),  # same year and source, already in NUTS 2021: kept as is
        ("NL35", 2024, 1_400_057, "2024"),
    )
    back = in_version(source, "2021", ["ITH5", "ITI3", "NL31"], JRC).set_index("area_code")
    ith5 = 4_418_216 + 2_417
    assert back.loc["ITH5", "value"] == round(4_450_000 * 4_418_216 / ith5)
    assert "moved from NUTS 2024 to NUTS 2021" in back.loc["ITH5", "source"]
    assert back.loc["ITI3", "value"] == 1_000
    assert back.loc["NL31", "value"] == 1_400_057  # NL35 is all of NL31


# --- summarise ---------------------------------------------------------------------------------


def indicator_frame(sources: list[tuple[str, str | None, int | None, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "area_code": code,
                "denominator_source": source,
                "denominator_year": year,
                "denominator_standin": standin,
            }
            for code, source, year, standin in sources
        ]
    )


def test_a_summary_counts_sources_and_years_and_names_the_standins() -> None:
    rows = [(f"A{i}", "Eurostat demo_r_pjangroup", 2024, False) for i in range(9)]
    rows += [("UK1", "Eurostat demo_r_pjangroup", 2019, False)]
    rows += [("XX1", denominators.CITY_STANDIN, None, True), ("YY1", None, None, False)]
    summary = summarise(indicator_frame(rows), "nuts2", divided=True)
    assert summary.areas == 12
    assert summary.uses[0] == ("Eurostat demo_r_pjangroup", 2024, 9)
    assert summary.standins == ("XX1",)
    assert summary.missing == ("YY1",)
    assert summary.warning is None  # 1 of 12 is under a tenth
    assert summary.note() == (
        "Population: Eurostat demo_r_pjangroup, 2024 (9 areas), 2019 (1); "
        "GeoNames stand-in (1 area)."
    )


def test_more_than_a_tenth_on_standins_is_said_plainly() -> None:
    rows = [(f"C{i}", "Eurostat demo_r_pjangroup", 2024, False) for i in range(8)]
    rows += [("BA", denominators.COUNTRY_STANDIN, None, True)] * 1
    rows += [("GE", denominators.COUNTRY_STANDIN, None, True)]
    summary = summarise(indicator_frame(rows), "country", divided=True)
    assert summary.standin_share == pytest.approx(0.2)
    assert summary.warning is not None
    assert summary.warning.startswith("Warning: 2 of 10 countries (20%) have no official")


def test_an_indicator_not_divided_by_a_figure_has_no_denominators() -> None:
    summary = summarise(
        indicator_frame([("FR", "survey responses", None, False)]), "country", divided=False
    )
    assert summary == DenominatorSummary("country", 0, "Population", (), (), ())
    assert summary.note() == "No denominator: counts or shares of the responding centres."
    assert summary.warning is None
