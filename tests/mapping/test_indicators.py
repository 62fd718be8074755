"""Indicators on a small hand-computed fixture, and against an independent pandas computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapping.indicators import IndicatorSpec, asked_when, indicator_by_area, numerator_values
from surveys.questionnaires.definitions.model import to_definition
from surveys.questionnaires.service import catalogue_tables

# Three countries, ten centres: FR 4 expected (3 respond), DE 4 expected (1 responds),
# MT 2 expected (none respond).
EXPECTED = pd.DataFrame(
    {
        "area_code": ["FR"] * 4 + ["DE"] * 4 + ["MT"] * 2,
        "centre_id": list(range(1, 11)),
    }
)
RESPONSES = pd.DataFrame(
    {
        "area_code": ["FR", "FR", "FR", "DE"],
        "centre_id": [1, 2, 3, 5],
        "answers": [
            {"units": 2, "has_pet": "yes", "wait": 3.0},
            {"units": 3, "has_pet": "no", "wait": ""},
            {"units": 5, "has_pet": "yes", "wait": 5.0},
            {"units": 4, "has_pet": "yes", "wait": 8.0},
        ],
    }
)
AREAS = pd.DataFrame(
    {
        "area_code": ["FR", "DE", "MT"],
        "area_name": ["France", "Germany", "Malta"],
        "population": [68_000_000, 84_000_000, 500_000],
        "population_source": ["test figures"] * 3,
        "population_year": [2024] * 3,
    }
)


def spec(numerator: str, aggregation: str, denominator: str) -> IndicatorSpec:
    return IndicatorSpec("x", "form", numerator, aggregation, denominator, {}, {})


def by_area(indicator: IndicatorSpec) -> pd.DataFrame:
    return indicator_by_area(RESPONSES, EXPECTED, AREAS, indicator).set_index("area_code")


def test_units_per_million_by_hand() -> None:
    result = by_area(spec("${units}", "sum", "population_per_million"))
    # FR: 2 + 3 + 5 = 10 units / 68,000,000 x 10^6 = 0.14705882...
    assert result.loc["FR", "numerator"] == 10
    assert result.loc["FR", "value"] == pytest.approx(10 / 68)
    # DE: 4 units / 84,000,000 x 10^6
    assert result.loc["DE", "value"] == pytest.approx(4 / 84)
    assert result.loc["FR", "denominator"] == 68_000_000
    assert result.loc["FR", "denominator_source"] == "test figures"
    assert result.loc["FR", "denominator_year"] == 2024


def test_coverage_low_coverage_and_no_data() -> None:
    result = by_area(spec("${units}", "sum", "population_per_million"))
    assert result.loc["FR", ["expected", "responding"]].tolist() == [4, 3]
    assert result.loc["FR", "coverage"] == 0.75
    assert not result.loc["FR", "low_coverage"]
    assert result.loc["DE", "coverage"] == 0.25
    assert result.loc["DE", "low_coverage"]
    assert result.loc["MT", "no_data"]
    assert math.isnan(result.loc["MT", "value"])  # no data is never zero


def test_share_of_responding_centres_offering() -> None:
    result = by_area(spec("${has_pet}", "count_yes", "centres_responding"))
    assert result.loc["FR", "value"] == pytest.approx(2 / 3 * 100)
    assert result.loc["DE", "value"] == 100.0


def test_median_skips_blanks() -> None:
    result = by_area(spec("${wait}", "median", "none"))
    assert result.loc["FR", "value"] == 4.0  # median of 3 and 5; the blank is skipped
    assert result.loc["DE", "value"] == 8.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["AT", "BE", "CZ"]), st.integers(0, 50)), min_size=1, max_size=30
    )
)
def test_agrees_with_an_independent_pandas_computation(rows: list[tuple[str, int]]) -> None:
    responses = pd.DataFrame(
        {
            "area_code": [area for area, _ in rows],
            "centre_id": list(range(len(rows))),
            "answers": [{"units": units} for _, units in rows],
        }
    )
    expected = responses[["area_code", "centre_id"]]
    populations = {"AT": 9_100_000, "BE": 11_800_000, "CZ": 10_900_000}
    areas = pd.DataFrame(
        {
            "area_code": list(populations),
            "area_name": list(populations),
            "population": list(populations.values()),
            "population_source": ["x"] * 3,
            "population_year": [2024] * 3,
        }
    )
    ours = indicator_by_area(
        responses, expected, areas, spec("${units}", "sum", "population_per_million")
    )
    independent = (
        pd.DataFrame(rows, columns=["area_code", "units"]).groupby("area_code")["units"].sum()
        / pd.Series(populations)
        * 1e6
    )
    for row in ours.itertuples():
        if row.area_code in independent.index and not np.isnan(independent[row.area_code]):
            assert row.value == pytest.approx(independent[row.area_code])
            # per-million figures equal count / population x 10^6 within rounding
            assert round(row.value, 6) == round(row.numerator / row.denominator * 1e6, 6)
        else:
            assert row.no_data


# --- a count the questionnaire skipped is zero -------------------------------------------------

SKIPPING_SURVEY = [
    {"type": "select_one yes_no_planned", "name": "has_pet"},
    {"type": "begin_group", "name": "pet", "relevant": "${has_pet} = 'yes'"},
    {"type": "integer", "name": "units"},
    {"type": "decimal", "name": "wait"},
    {"type": "end_group"},
]


def skipping(numerator: str, aggregation: str, denominator: str) -> IndicatorSpec:
    return IndicatorSpec.from_definition(
        "form",
        {
            "id": "x",
            "numerator": numerator,
            "aggregation": aggregation,
            "denominator": denominator,
        },
        SKIPPING_SURVEY,
    )


def test_a_centre_that_answered_no_contributes_zero_units() -> None:
    indicator = skipping("${units}", "sum", "population_per_million")
    assert indicator.asked_when == {"units": ("${has_pet} = 'yes'",)}
    responses = pd.DataFrame(
        {
            "area_code": ["FR", "FR", "DE", "MT", "MT"],
            "centre_id": [1, 2, 5, 9, 10],
            "answers": [
                {"has_pet": "yes", "units": 2},
                {"has_pet": "no"},  # not asked: none
                {"has_pet": "planned"},  # not operated today: none
                {"has_pet": "yes"},  # asked, left blank: unknown
                {},  # the availability question unanswered: unknown
            ],
        }
    )
    numerators = numerator_values(responses, indicator)
    assert numerators.tolist() == [2.0, 0.0, 0.0, "", ""]
    result = indicator_by_area(responses, EXPECTED, AREAS, indicator).set_index("area_code")
    assert result.loc["FR", "numerator"] == 2
    assert result.loc["DE", "value"] == 0.0  # a country whose centre has none: 0, not a blank
    assert not result.loc["DE", "no_data"]
    assert math.isnan(result.loc["MT", "value"])  # nothing known: still no data


def test_waiting_times_of_skipped_centres_stay_missing() -> None:
    indicator = skipping("${wait}", "median", "none")
    responses = pd.DataFrame({"answers": [{"has_pet": "no"}, {"has_pet": "yes", "wait": 3.0}]})
    assert numerator_values(responses, indicator).tolist() == ["", 3.0]


def test_asked_when_follows_chains_of_conditions() -> None:
    survey = [
        {"type": "select_one yes_no", "name": "has_screening"},
        {"type": "select_one use", "name": "use", "relevant": "${has_screening} = 'yes'"},
        {"type": "integer", "name": "patients", "relevant": "${use} = 'routine'"},
    ]
    conditions = asked_when(survey, ["patients"])
    assert conditions == {
        "patients": ("${use} = 'routine'",),
        "use": ("${has_screening} = 'yes'",),
    }
    indicator = IndicatorSpec("x", "f", "${patients}", "sum", "none", {}, {}, asked_when=conditions)
    responses = pd.DataFrame({"answers": [{"has_screening": "no"}, {"has_screening": "yes"}, {}]})
    # No screening, so no clinical use, so no patients: 0. Screening with its use unanswered,
    # or nothing answered at all: unknown.
    assert numerator_values(responses, indicator).tolist() == [0.0, "", ""]


def test_the_catalogue_counts_skipped_technologies_as_zero() -> None:
    tables = {t.settings["form_id"]: t for t in catalogue_tables()}
    definition = to_definition(tables["nuclear_medicine"])
    item = next(i for i in definition["indicators"] if i["id"] == "nm_pet_ct_per_million")
    indicator = IndicatorSpec.from_definition("nuclear_medicine", item, definition["survey"])
    assert "${has_pet_ct} = 'yes'" in indicator.asked_when["pet_ct_units"]
    responses = pd.DataFrame({"answers": [{"has_pet_ct": "no"}, {"has_pet_ct": "yes"}]})
    assert numerator_values(responses, indicator).tolist() == [0.0, ""]


def test_every_waiting_time_of_the_catalogue_declares_lower_is_better() -> None:
    for tables in catalogue_tables():
        for item in to_definition(tables)["indicators"]:
            unit = item["unit"].get("en", "")
            if unit == "weeks" or "wait" in item["id"]:
                assert item["higher_is_better"] is False, item["id"]
