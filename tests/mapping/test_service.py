"""The map use cases on the database: responses in, one indicator map out, computed once."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mapping import imports, service
from mapping.classify import NO_DATA
from mapping.errors import IncomparableUnits, IndicatorNotFound, NoRegionalDenominator, NoRegions
from mapping.populations import CITY_POPULATION_SOURCE, areas_frame
from mapping.service import MapRequest, survey_line
from surveys.campaigns.errors import CampaignNotFound
from surveys.campaigns.models import Campaign
from surveys.policy import staff_actor, system_actor
from surveys.questionnaires.service import get_version
from surveys.registry.models import Centre, Population
from surveys.responses.submission import start_draft, submit
from tests.builders import make_campaign, make_centre, make_published_form
from tests.databases import skip_or_fail
from tests.mapping.nuts_files import write_nuts_file
from tests.mapping.shared_data import GISCO_LEVEL_2
from tests.mapping.spies import counting_numerators, reading, statements

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
SYSTEM = system_actor("system:test")
FORM = """
| survey |
|        | type              | name    | label::en | required | relevant           |
|        | select_one yes_no | has_pet | PET/CT?   | yes      |                    |
|        | integer           | units   | Units     | yes      | ${has_pet} = 'yes' |
|        | decimal           | wait    | Weeks     |          | ${has_pet} = 'yes' |
| choices |
|         | list_name | name | label::en |
|         | yes_no    | yes  | Yes       |
|         | yes_no    | no   | No        |
| indicators |
|            | id          | numerator  | aggregation | denominator            | label::en           | unit::en                | higher_is_better |
|            | pet_per_m   | ${units}   | sum         | population_per_million | PET/CT per million  | units per million       | yes              |
|            | pet_share   | ${has_pet} | count_yes   | centres_responding     | Centres with PET/CT | % of responding centres | yes              |
|            | sites_per_m | ${has_pet} | count_yes   | population_per_million | PET/CT sites        | units per million       | yes              |
|            | pet_wait    | ${wait}    | median      | none                   | Wait for PET/CT     | weeks                   | no               |
| settings |
|          | form_id | version | form_title | domain           |
|          | pet_map | 1       | PET        | nuclear_medicine |
"""


def populate(session: Session) -> Campaign:
    """Four countries: France (3 of 4 centres answer), Germany (1 of 4: low coverage), Malta
    (none of 2: no data) and Switzerland (1 of 1, not an EU member state)."""
    for code, value in (
        ("FR", 68_000_000),
        ("DE", 84_000_000),
        ("MT", 500_000),
        ("CH", 9_000_000),
    ):
        session.add(
            Population(
                area_code=code, area_level="country", year=2024, value=value, source="test figures"
            )
        )
    centres = [
        make_centre(session, name=f"C{i}", country=c, latitude=lat, longitude=lon)
        for i, (c, lat, lon) in enumerate(
            [
                ("FR", 48.85, 2.35),
                ("FR", 45.76, 4.84),
                ("FR", 43.30, 5.37),
                ("FR", 44.84, -0.58),
                ("DE", 52.52, 13.40),
                ("DE", 48.14, 11.58),
                ("DE", 50.94, 6.96),
                ("DE", 53.55, 9.99),
                ("MT", 35.90, 14.51),
                ("MT", 36.04, 14.24),
                ("CH", 47.37, 8.54),
            ]
        )
    ]
    version = make_published_form(session, FORM)
    campaign = make_campaign(
        session, slug=f"map-{uuid.uuid4().hex[:6]}", centres=centres, versions=[version]
    )
    answers = {
        0: {"has_pet": "yes", "units": 2, "wait": 3.0},
        1: {"has_pet": "no"},
        2: {"has_pet": "yes", "units": 5, "wait": 9.0},
        4: {"has_pet": "yes", "units": 4, "wait": 2.0},
        10: {"has_pet": "yes", "units": 90, "wait": 1.0},
    }
    for index, payload in answers.items():
        submit(
            session,
            submission_uuid=str(uuid.uuid4()),
            campaign=campaign,
            centre=centres[index],
            version=version,
            answers=payload,
            now=NOW,
            actor="t",
        )
    start_draft(session, campaign, centres[3], version, now=NOW)  # a draft never counts
    return campaign


# --- indicator_map --------------------------------------------------------------------------


def test_indicator_values_from_submitted_responses(session: Session) -> None:
    campaign = populate(session)
    _, frame = service.indicator_values(session, SYSTEM, MapRequest(campaign.slug, "pet_per_m"))
    rows = frame.set_index("area_code")
    assert set(rows.index) == {"FR", "DE", "MT", "CH"}
    assert rows.loc["FR", "numerator"] == 7
    assert rows.loc["FR", "value"] == pytest.approx(7 / 68)
    assert rows.loc["FR", ["expected", "responding"]].tolist() == [4, 3]
    assert rows.loc["DE", "low_coverage"]
    assert rows.loc["MT", "no_data"]
    assert math.isnan(rows.loc["MT", "value"])
    assert rows.loc["FR", "denominator_source"] == "test figures"

    _, share = service.indicator_values(session, SYSTEM, MapRequest(campaign.slug, "pet_share"))
    assert share.set_index("area_code").loc["FR", "value"] == pytest.approx(200 / 3)


def test_one_map_holds_classes_centres_equity_geometry_and_access(session: Session) -> None:
    campaign = populate(session)
    result = service.indicator_map(
        session, SYSTEM, MapRequest(campaign.slug, "pet_per_m", with_access=True)
    )
    assert result.label == "PET/CT per million"
    assert [s.id for s in result.specs] == ["pet_per_m", "pet_share", "sites_per_m", "pet_wait"]
    assert set(result.classification.codes.index) >= {"FR", "DE"}
    assert sorted(result.centres["offers"].tolist()) == [False, True, True, True, True]
    assert result.equity.areas_with_data == 3
    low, high = sorted([4 / 84, 7 / 68])
    assert result.equity.max_min_ratio == pytest.approx(10 / low)  # Switzerland: 90 / 9
    assert 0 <= result.equity.gini < 1
    assert result.equity.benchmark == pytest.approx((low + high) / 2)  # EU median of two areas
    assert result.equity.benchmark_label == "EU-27 median (2 of 27 member states with data)"
    assert set(result.equity.gaps) == {"FR", "DE", "CH"}
    areas = result.geometry().set_index("area_code")
    assert areas.loc["AL", "no_data"]  # not surveyed: never a value, never zero
    assert not areas.loc["AL", "in_study"]  # and outside the study
    access = result.access_by_area()
    assert access["DE"]["beyond_200km"] < 1  # Berlin offers it
    assert result.table_rows()[0][:3] == ["area_code", "area_name", "value"]


def test_one_map_reads_the_responses_once_and_evaluates_each_numerator_once(
    session: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = populate(session)
    calls = counting_numerators(monkeypatch)
    with statements(engine) as seen:
        service.indicator_map(
            session, SYSTEM, MapRequest(campaign.slug, "pet_per_m", with_access=True)
        )
    answers = [s for s in reading("response", seen) if "response.answers" in s]
    assert len(answers) == 1  # beside it, the data version's summary (mapping.cache)
    assert len(reading("questionnaire_version", seen)) == 1  # the indicator specs
    assert calls == [5]  # one evaluation of the five submitted responses


def test_unknown_indicator_is_not_found(session: Session) -> None:
    campaign = populate(session)
    with pytest.raises(IndicatorNotFound):
        service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "nothing"))


def test_a_domain_lead_sees_the_indicators_of_their_domains_only(session: Session) -> None:
    campaign = populate(session)
    surgery = staff_actor(user_id=1, role="domain_lead", domains=["surgery"])
    nuclear = staff_actor(user_id=2, role="domain_lead", domains=["nuclear_medicine"])
    # The campaign asks nuclear medicine only: to a surgery lead it does not exist.
    with pytest.raises(CampaignNotFound):
        service.indicator_map(session, surgery, MapRequest(campaign.slug, "pet_per_m"))
    with pytest.raises(CampaignNotFound):
        service.map_index(session, surgery, campaign.slug)
    assert service.map_index(session, surgery).campaigns == []
    index = service.map_index(session, nuclear, campaign.slug)
    every = ["pet_per_m", "pet_share", "sites_per_m", "pet_wait"]
    assert [s.id for s in index.by_domain["nuclear_medicine"]] == every
    assert [s.id for s in service.indicator_specs(session, nuclear, campaign.slug)] == every


def test_a_nuts2_map_needs_regions(session: Session) -> None:
    campaign = populate(session)  # the test database holds countries, no region
    with pytest.raises(NoRegions):
        service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "pet_per_m", "nuts2"))


def test_a_new_boundary_vintage_with_as_many_regions_is_drawn_at_once(
    session: Session, tmp_path: Path
) -> None:
    campaign = populate(session)
    old = {"FR10": (2.0, 48.0, 3.0, 49.5), "FR71": (4.0, 45.0, 5.5, 46.5)}
    new = {"FR10": (1.5, 48.5, 2.5, 49.0), "FR71": (4.5, 45.5, 5.0, 46.0)}
    asked = MapRequest(campaign.slug, "pet_per_m", "nuts2", with_access=True)
    for bounds in (old, new):
        path = write_nuts_file(tmp_path / "nuts.geojson", bounds)
        imports.import_boundaries(session, SYSTEM, path, level=2, nuts_version="2021")
        areas = service.indicator_map(session, SYSTEM, asked).geometry().set_index("area_code")
        assert len(areas) == 2
        for code, box_bounds in bounds.items():
            assert tuple(areas.loc[code, "geometry"].bounds) == pytest.approx(box_bounds)


def test_nuts2_boundaries_assign_centres_and_give_regional_values(session: Session) -> None:
    if not GISCO_LEVEL_2.exists():
        skip_or_fail(f"the GISCO reference file is missing: {GISCO_LEVEL_2}")
    campaign = populate(session)
    loaded = imports.import_boundaries(session, SYSTEM, GISCO_LEVEL_2, level=2, nuts_version="2021")
    assert loaded.stored > 250
    paris = session.scalar(select(Centre).where(Centre.name == "C0"))
    assert paris is not None
    assert paris.region_id is not None
    assert "FR10" in set(areas_frame(session, "nuts2")["area_code"])
    _, frame = service.indicator_values(
        session, SYSTEM, MapRequest(campaign.slug, "pet_per_m", "nuts2")
    )
    rows = frame.set_index("area_code")
    assert rows.loc["FR10", "numerator"] == 2  # the Paris centre's two units
    # No official regional figure imported yet: the denominator is the labelled approximation
    # from GeoNames places, and the value follows from it.
    assert rows.loc["FR10", "denominator_source"] == CITY_POPULATION_SOURCE
    assert rows.loc["FR10", "value"] == pytest.approx(2 / rows.loc["FR10", "denominator"] * 1e6)
    # The table holds the regions of the surveyed countries only; the others are outside it.
    assert set(rows.index.str[:2]) == {"FR", "DE", "MT", "CH"}
    result = service.indicator_map(
        session, SYSTEM, MapRequest(campaign.slug, "pet_per_m", "nuts2", geometry="none")
    )
    label = result.equity.benchmark_label or ""
    assert label.startswith("EU-27 median (")
    assert label.endswith(" regions of EU-27 member states with data)")
    assert result.figure_title == "PET/CT per million, by NUTS-2 region"


# --- figure_series ----------------------------------------------------------------------------


def test_a_figure_series_shares_its_classes(session: Session, tmp_path: Path) -> None:
    campaign = populate(session)
    series = service.figure_series(
        session, SYSTEM, ["pet_per_m", "sites_per_m"], campaign=campaign.slug, classes=2
    )
    bounds = {m.classification.bounds for m in series.maps}
    assert len(bounds) == 1  # one set of classes for both maps
    assert series.source_note.startswith(f"Survey: {campaign.name}, reference year ")
    path = tmp_path / "pet.svg"
    service.draw_figure(series.maps[0], "svg", path, source_note=series.source_note)
    svg = path.read_text()
    assert "<svg" in svg[:500]
    # Each figure of a series keeps its own denominators in the note.
    assert "Population: test figures, 2024 (4 areas)" in svg


def test_a_series_of_indicators_in_different_units_is_refused(session: Session) -> None:
    campaign = populate(session)
    with pytest.raises(IncomparableUnits) as refused:
        service.figure_series(
            session, SYSTEM, ["pet_per_m", "pet_share", "pet_wait"], campaign=campaign.slug
        )
    message = refused.value.detail
    assert "pet_per_m: units per million" in message
    assert "pet_share: % of responding centres" in message
    assert "pet_wait: weeks" in message


def test_a_figure_says_what_where_which_wave_and_whose_population(
    session: Session, tmp_path: Path
) -> None:
    campaign = populate(session)
    result = service.indicator_map(
        session, SYSTEM, MapRequest(campaign.slug, "pet_per_m", geometry="print")
    )
    assert result.figure_title == "PET/CT per million, by country"
    assert result.figure_subtitle == f"Survey wave: {campaign.name}"
    # Every area with answers has an imported figure (Malta has none and needs none).
    assert result.denominator_note == "Population: test figures, 2024 (4 areas)."
    path = tmp_path / "pet.svg"
    service.draw_figure(result, "svg", path)
    svg = path.read_text()
    for text in (
        "PET/CT per million, by country",
        f"Survey wave: {campaign.name}",
        "Population: test figures, 2024 (4 areas).",
        "Malta",  # always enlarged in an inset of its own
        "Outside the study (38)",  # the 42 countries of the layer but the four surveyed
        "No data (1)",  # Malta, as in the table
    ):
        assert f"<!-- {text}" in svg or text in svg, text


# --- semantics: zero units, lower is better, outside the study, empty campaigns ---------------


def test_a_centre_that_has_none_counts_zero_units_and_its_country_keeps_a_value(
    session: Session,
) -> None:
    campaign = populate(session)
    malta = session.scalar(select(Centre).where(Centre.name == "C8"))
    version = get_version(session, "pet_map")
    assert malta is not None
    submit(
        session,
        submission_uuid=str(uuid.uuid4()),
        campaign=campaign,
        centre=malta,
        version=version,
        answers={"has_pet": "no"},
        now=NOW,
        actor="t",
    )
    result = service.indicator_map(
        session, SYSTEM, MapRequest(campaign.slug, "pet_per_m", geometry="none")
    )
    rows = result.frame.set_index("area_code")
    assert rows.loc["MT", "value"] == 0.0  # Malta answered it has no PET/CT: 0 units
    assert not rows.loc["MT", "no_data"]
    assert result.equity.areas_with_data == 4
    assert result.equity.unbounded_ratio  # a zero minimum
    assert result.equity.units_needed["MT"] >= 1


def test_for_waiting_times_the_excess_over_the_eu_median_is_flagged(session: Session) -> None:
    campaign = populate(session)
    result = service.indicator_map(
        session, SYSTEM, MapRequest(campaign.slug, "pet_wait", geometry="none")
    )
    rows = result.frame.set_index("area_code")
    assert rows.loc["FR", "value"] == 6.0  # median of 3 and 9 weeks
    # EU-27 median of France (6) and Germany (2); Switzerland's 1 week is not in it.
    assert result.equity.benchmark == 4.0
    assert result.equity.gap_kind == "excess"
    assert result.equity.gaps == {"FR": 2.0, "DE": 0.0, "CH": 0.0}  # the longest wait only
    assert result.equity.units_needed == {}
    assert result.value_label == "Wait for PET/CT (weeks); lower is better"
    assert result.figure_legend_title == "Weeks; lower is better"
    assert result.equity.weighted_by is None  # no population behind a waiting time


def test_areas_outside_the_study_are_apart_from_no_data(session: Session) -> None:
    campaign = populate(session)
    result = service.indicator_map(
        session, SYSTEM, MapRequest(campaign.slug, "pet_per_m", geometry="web")
    )
    drawn = result.geometry()["area_code"].to_numpy()
    legend = {e.label: e.count for e in result.classification.legend(drawn)}
    assert legend["No data"] == int(result.frame["no_data"].sum()) == 1  # Malta, as the table
    assert legend["Outside the study"] == len(drawn) - 4
    assert sum(legend.values()) == len(drawn)


def test_a_campaign_without_answers_maps_every_area_as_no_data_and_says_why_no_access(
    session: Session, tmp_path: Path
) -> None:
    centres = [
        make_centre(session, name="Far", country="FR", latitude=None, longitude=None),
        make_centre(session, name="Near", country="DE", latitude=52.5, longitude=13.4),
    ]
    version = make_published_form(session, FORM.replace("| pet_map | 1 ", "| pet_new | 1 "))
    campaign = make_campaign(
        session, slug=f"new-{uuid.uuid4().hex[:6]}", centres=centres, versions=[version]
    )
    asked = MapRequest(campaign.slug, "pet_per_m", geometry="print", with_access=True)
    result = service.indicator_map(session, SYSTEM, asked)
    assert result.frame["no_data"].all()
    assert set(result.classification.codes) == {NO_DATA}
    assert result.access is not None
    assert result.access.empty
    assert result.access_note == "No centre has answered yet."
    assert result.equity.areas_with_data == 0
    assert result.equity.benchmark is None
    for fmt in ("png", "svg", "pdf"):
        service.draw_figure(result, fmt, tmp_path / f"empty.{fmt}")  # type: ignore[arg-type]
        assert (tmp_path / f"empty.{fmt}").stat().st_size > 1000

    # The only answer comes from the centre without coordinates: still no distances.
    submit(
        session,
        submission_uuid=str(uuid.uuid4()),
        campaign=campaign,
        centre=centres[0],
        version=version,
        answers={"has_pet": "yes", "units": 1},
        now=NOW,
        actor="t",
    )
    result = service.indicator_map(session, SYSTEM, asked)
    assert result.access is not None
    assert result.access.empty
    assert result.access_note is not None
    assert "coordinates" in result.access_note
    assert not result.frame.set_index("area_code").loc["FR", "no_data"]


# --- denominators -------------------------------------------------------------------------------

YEAR_FORM = """
| survey |
|        | type              | name             | label::en | required | relevant           |
|        | integer           | pet_reference_year | Year    | yes      |                    |
|        | select_one yes_no | has_pet          | PET/CT?   | yes      |                    |
|        | integer           | units            | Units     | yes      | ${has_pet} = 'yes' |
| choices |
|         | list_name | name | label::en |
|         | yes_no    | yes  | Yes       |
|         | yes_no    | no   | No        |
| indicators |
|            | id        | numerator | aggregation | denominator            | label::en         |
|            | pet_per_m | ${units}  | sum         | population_per_million | PET per million   |
|            | pet_cases | ${units}  | sum         | new_cases_per_thousand | PET per 1,000 new cases |
| settings |
|          | form_id  | version | form_title | domain           |
|          | pet_year | 1       | PET        | nuclear_medicine |
"""


def add_france(session: Session) -> None:
    for year, value in ((2020, 66_000_000), (2024, 68_000_000)):
        session.add(
            Population(area_code="FR", area_level="country", year=year, value=value, source="Insee")
        )


def year_campaign(session: Session, answered_year: int, countries: list[str]) -> Campaign:
    """A campaign whose respondents say their figures refer to ``answered_year``."""
    centres = [make_centre(session, name=f"Y{i}", country=c) for i, c in enumerate(countries)]
    version = make_published_form(session, YEAR_FORM)
    campaign = make_campaign(
        session, slug=f"year-{uuid.uuid4().hex[:6]}", centres=centres, versions=[version]
    )
    for centre in centres:
        submit(
            session,
            submission_uuid=str(uuid.uuid4()),
            campaign=campaign,
            centre=centre,
            version=version,
            answers={"pet_reference_year": answered_year, "has_pet": "yes", "units": 4},
            now=NOW,
            actor="t",
        )
    return campaign


def test_the_population_of_the_year_closest_to_the_reference_year_is_used(
    session: Session,
) -> None:
    add_france(session)
    campaign = year_campaign(session, 2021, ["FR"])
    result = service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "pet_per_m"))
    assert result.reference_year == 2021
    france = result.frame.set_index("area_code").loc["FR"]
    assert (france["denominator_source"], france["denominator_year"]) == ("Insee", 2020)
    assert france["value"] == pytest.approx(4 / 66)
    assert "reference year 2021" in result.source_note
    assert "Population: Insee, 2020 (1 area)" in result.source_note
    later = year_campaign(session, 2025, ["FR"])
    frame = service.indicator_map(session, SYSTEM, MapRequest(later.slug, "pet_per_m")).frame
    assert frame.set_index("area_code").loc["FR", "denominator_year"] == 2024


def test_without_answers_the_open_dates_year_is_the_reference_year(session: Session) -> None:
    campaign = populate(session)
    asked = MapRequest(campaign.slug, "pet_per_m")
    assert campaign.opens_at is None  # no answer, no open date: the year it was created
    assert service.indicator_map(session, SYSTEM, asked).reference_year == campaign.created_at.year
    campaign.opens_at = dt.datetime(2019, 3, 1, tzinfo=dt.UTC)
    session.flush()
    assert service.indicator_map(session, SYSTEM, asked).reference_year == 2019


def test_per_1000_new_cancer_cases_by_country_only(session: Session, tmp_path: Path) -> None:
    campaign = year_campaign(session, 2024, ["FR", "CZ"])
    result = service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "pet_cases"))
    rows = result.frame.set_index("area_code")
    assert rows.loc["CZ", "value"] == pytest.approx(4 / 61_107 * 1000)
    assert rows.loc["FR", "value"] == pytest.approx(4 / 442_708 * 1000)
    assert (rows.loc["CZ", "denominator_source"], rows.loc["CZ", "denominator_year"]) == (
        "GLOBOCAN 2022 (IARC)",
        2022,
    )
    assert rows.loc["CZ", "denominator_kind"] == "new_cases_per_thousand"
    assert "New cancer cases: GLOBOCAN 2022 (IARC), 2022 (2 areas)" in result.source_note
    assert result.equity.areas_with_data == 2
    regions = write_nuts_file(tmp_path / "fr.geojson", {"FR10": (2.0, 48.0, 3.0, 49.5)})
    imports.import_boundaries(session, SYSTEM, regions, level=2, nuts_version="2021")
    with pytest.raises(NoRegionalDenominator, match="per country only"):
        service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "pet_cases", "nuts2"))


def test_many_standins_are_said_plainly_in_the_note_and_the_summary(session: Session) -> None:
    add_france(session)
    campaign = year_campaign(session, 2024, ["FR", "BA", "MD"])
    result = service.indicator_map(session, SYSTEM, MapRequest(campaign.slug, "pet_per_m"))
    rows = result.frame.set_index("area_code")
    assert rows.loc["BA", "denominator_standin"]
    assert rows.loc["BA", "denominator_source"].startswith("stand-in: GeoNames")
    assert not rows.loc["FR", "denominator_standin"]
    assert result.denominators.standins == ("BA", "MD")
    warning = result.denominator_warning
    assert warning is not None
    assert warning.startswith("Warning: 2 of 3 countries (67%) have no official denominator")
    assert warning in result.source_note
    assert "GeoNames stand-in (2 areas)" in result.source_note


def test_a_synthetic_campaign_says_so_under_every_map_and_names_its_sizing_source() -> None:
    demo = Campaign(slug="demo-2026", name="Demo survey 2026 (synthetic data)", is_synthetic=True)
    real = Campaign(slug="real", name="Survey 2026", is_synthetic=False)
    assert survey_line(demo, "2025") == (
        "Survey: Demo survey 2026 (synthetic data) (answers synthetic, sized on The IAEA "
        "Directory of Radiotherapy Centres (DIRAC), https://dirac.iaea.org/), reference year 2025."
    )
    assert survey_line(real, "2025") == "Survey: Survey 2026, reference year 2025."
