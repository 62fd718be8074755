"""The denominators on the database: a fresh registry holds the packaged official figures and
boundaries; each area takes the figure of the year closest to the reference year, in the
active NUTS version; stand-ins only where no official figure exists, labelled."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapping import imports, official, populations
from mapping.packaged import install_reference_data
from surveys.audit.models import AuditEvent
from surveys.policy import system_actor
from surveys.registry.models import BoundaryVersion, Population, Region

SYSTEM = system_actor("system:test")


@pytest.fixture
def installed(session: Session) -> Session:
    """The test registry after ``accessgap db upgrade``: packaged boundaries and figures."""
    install_reference_data(session, SYSTEM, request_id="req-install")
    return session


def test_a_fresh_registry_holds_the_packaged_boundaries_and_figures(session: Session) -> None:
    first = install_reference_data(session, SYSTEM, request_id="req-install")
    assert [(b.level, b.nuts_version, b.stored, b.active) for b in first.boundaries] == [
        (0, "2021", 37, True),
        (2, "2021", 333, True),
    ]
    assert first.figures == 2_010
    assert session.scalar(select(func.count(Population.id))) == 2_010
    assert session.scalar(select(func.count(Region.id)).where(Region.level == 2)) == 333
    events = session.scalars(
        select(AuditEvent.action).where(AuditEvent.request_id == "req-install")
    ).all()
    assert sorted(events) == [
        "geo.import_boundaries",
        "geo.import_boundaries",
        "geo.import_population",
    ]
    again = install_reference_data(session, SYSTEM, request_id="req-again")
    assert (again.boundaries, again.figures) == ((), 0)  # nothing twice


def test_countries_take_the_year_closest_to_the_reference_year(installed: Session) -> None:
    frame = populations.areas_frame(installed, "country", reference_year=2025).set_index(
        "area_code"
    )
    germany = frame.loc["DE"]
    assert (germany["population"], germany["population_year"]) == (83_456_045, 2024)
    assert germany["population_source"] == official.EUROSTAT_POPULATION_SOURCE
    assert not germany["population_standin"]
    assert frame.loc["GR", "population_year"] == 2024  # Eurostat's EL reaches Greece
    assert frame.loc["GB", "population_year"] == 2019  # the only year Eurostat has
    assert frame.loc["AL", "population_year"] == 2023  # no 2024 figure for Albania
    bosnia = frame.loc["BA"]  # no official figure at all: a labelled stand-in
    assert bosnia["population_standin"]
    assert bosnia["population_source"].startswith("stand-in: GeoNames")
    assert bosnia["population_year"] is pd.NA
    older = populations.areas_frame(installed, "country", reference_year=2020)
    assert older.set_index("area_code").loc["DE", "population_year"] == 2020
    # New cancer cases: GLOBOCAN per country.
    assert frame.loc["FR", "new_cases"] == 442_708
    assert frame.loc["FR", "new_cases_year"] == 2022
    assert pd.isna(frame.loc["LI", "new_cases"])


def test_regions_take_figures_in_the_active_version(installed: Session) -> None:
    frame = populations.areas_frame(installed, "nuts2", reference_year=2025).set_index("area_code")
    assert len(frame) == 333
    # Eurostat 2024 is in NUTS 2024 codes: NUTS 2021 NL31 gets the figure of NL35 (all of it).
    assert frame.loc["NL31", "population"] == 1_400_057
    assert frame.loc["NL31", "population_year"] == 2024
    assert "moved from NUTS 2024 to NUTS 2021" in frame.loc["NL31", "population_source"]
    assert frame.loc["AT13", "population_source"] == official.EUROSTAT_POPULATION_SOURCE
    assert frame.loc["UKI3", "population_year"] == 2019
    assert frame.loc["UKN0", "population_standin"]  # Eurostat has no Northern Ireland
    assert frame["population_standin"].sum() == 1
    assert frame["new_cases"].isna().all()  # GLOBOCAN has no regions
    same_version = populations.areas_frame(installed, "nuts2", reference_year=2022)
    assert same_version.set_index("area_code").loc["NL31", "population_source"] == (
        official.EUROSTAT_POPULATION_SOURCE
    )


def test_coverage_names_the_areas_still_on_standins(installed: Session) -> None:
    countries, regions = populations.coverage(installed)
    assert (countries.level, countries.areas) == ("country", 42)
    assert countries.standins == ("BA", "GE", "MD", "UA", "XK")
    assert (regions.level, regions.areas, regions.standins) == ("nuts2", 333, ("UKN0",))


def test_a_coordinators_newer_figure_is_used_for_a_later_reference_year(
    installed: Session, tmp_path: Path
) -> None:
    path = tmp_path / "pop.csv"
    path.write_text(
        "area_code,year,value,source\nAUT,2025,9200000,Statistik Austria\nUKN0,2024,1920000,NISRA\n",
        encoding="utf-8",
    )
    result = imports.import_population(installed, SYSTEM, path)
    assert result.areas_by_level == {"country": 1, "nuts2": 1}
    assert [c.standins for c in result.coverage] == [("BA", "GE", "MD", "UA", "XK"), ()]
    frame = populations.areas_frame(installed, "country", reference_year=2026).set_index(
        "area_code"
    )
    assert (frame.loc["AT", "population_source"], frame.loc["AT", "population_year"]) == (
        "Statistik Austria",
        2025,
    )
    assert (
        populations.areas_frame(installed, "country", reference_year=2024)
        .set_index("area_code")
        .loc["AT", "population_year"]
        == 2024
    )
    regions = populations.areas_frame(installed, "nuts2", reference_year=2025)
    assert not regions["population_standin"].any()


def test_an_existing_version_is_left_alone(session: Session) -> None:
    session.add(BoundaryVersion(level=2, nuts_version="2024", active=True, regions=0))
    session.flush()
    installed = install_reference_data(session, SYSTEM)
    assert [b.level for b in installed.boundaries] == [0]  # level 2 holds a version already
