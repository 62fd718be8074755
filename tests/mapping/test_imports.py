"""Boundary and population imports: the actor's permission is checked, the change audited; one
NUTS version active per level; every GISCO format; population files refused whole."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapping import imports, layers, queries, versions
from mapping.imports import PopulationFileRefused
from surveys.audit.models import AuditEvent
from surveys.errors import InvalidInput
from surveys.policy import PermissionDenied, staff_actor, system_actor
from surveys.registry.models import BoundaryVersion, Population, Region
from tests.builders import make_centre
from tests.mapping.nuts_files import write_nuts_file

SYSTEM = system_actor("system:test")
REGIONS = {"FR10": (2.0, 48.0, 3.0, 49.5), "FR71": (4.0, 45.0, 5.5, 46.5)}
# NUTS 2021 PT17 (Lisbon) became PT1A (Grande Lisboa) and PT1B (Península de Setúbal) in 2024.
PT_2021 = {"PT17": (-9.5, 38.4, -8.7, 39.1), "PT11": (-9.0, 41.0, -7.0, 42.0)}
PT_2024 = {
    "PT1A": (-9.5, 38.7, -8.7, 39.1),
    "PT1B": (-9.5, 38.4, -8.7, 38.7),
    "PT11": (-9.0, 41.0, -7.0, 42.0),
}


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


# --- import_boundaries ------------------------------------------------------------------------


def test_boundary_import_stores_regions_and_records_its_event(
    session: Session, tmp_path: Path
) -> None:
    path = write_nuts_file(tmp_path / "nuts2.geojson", REGIONS)
    assert queries.boundary_version(session) == "none"
    loaded = imports.import_boundaries(
        session, SYSTEM, path, level=2, nuts_version="2021", request_id="req-1"
    )
    assert (loaded.stored, loaded.active, loaded.active_version) == (2, True, "2021")
    codes = session.scalars(select(Region.code).where(Region.level == 2).order_by(Region.code))
    assert list(codes) == ["FR10", "FR71"]
    (event,) = events(session, "geo.import_boundaries")
    assert (event.actor, event.request_id) == ("system:test", "req-1")
    assert event.details["level"] == 2
    assert event.details["count"] == 2
    assert event.details["nuts_version"] == "2021"
    assert event.details["active"] is True
    assert event.details["file"] == "nuts2.geojson"
    assert event.details["nuts2_sha256"] == loaded.nuts2_sha256
    assert queries.boundary_version(session) == f"nuts2:{loaded.nuts2_sha256}"
    (version,) = queries.boundary_versions(session)
    assert (version.level, version.nuts_version, version.regions, version.active) == (
        2,
        "2021",
        2,
        True,
    )


def test_the_same_count_of_other_shapes_is_another_version(
    session: Session, tmp_path: Path
) -> None:
    first = imports.import_boundaries(
        session,
        SYSTEM,
        write_nuts_file(tmp_path / "a.geojson", REGIONS),
        level=2,
        nuts_version="2021",
    )
    moved = {code: (w + 0.5, s, e + 0.5, n) for code, (w, s, e, n) in REGIONS.items()}
    second = imports.import_boundaries(
        session,
        SYSTEM,
        write_nuts_file(tmp_path / "b.geojson", moved),
        level=2,
        nuts_version="2021",
    )
    assert first.stored == second.stored
    assert first.nuts2_sha256 != second.nuts2_sha256
    again = imports.import_boundaries(
        session,
        SYSTEM,
        write_nuts_file(tmp_path / "c.geojson", REGIONS),
        level=2,
        nuts_version="2021",
    )
    assert again.nuts2_sha256 == first.nuts2_sha256  # the same layer: the same version


def test_a_file_without_the_level_is_refused(session: Session, tmp_path: Path) -> None:
    path = write_nuts_file(tmp_path / "nuts0.geojson", {"FR": (0, 42, 8, 51)}, level=0)
    with pytest.raises(InvalidInput, match="no NUTS level 2"):
        imports.import_boundaries(session, SYSTEM, path, level=2, nuts_version="2021")
    with pytest.raises(InvalidInput, match="not a NUTS version"):
        imports.import_boundaries(session, SYSTEM, path, level=0, nuts_version="21")
    assert events(session, "geo.import_boundaries") == []


# --- NUTS versions ------------------------------------------------------------------------------


def test_another_version_waits_until_it_is_activated(session: Session, tmp_path: Path) -> None:
    lisbon = make_centre(session, name="Lisboa", country="PT", latitude=38.72, longitude=-9.14)
    old = imports.import_boundaries(
        session,
        SYSTEM,
        write_nuts_file(tmp_path / "pt2021.geojson", PT_2021),
        level=2,
        nuts_version="2021",
    )
    assert session.scalar(select(Region.code).where(Region.id == lisbon.region_id)) == "PT17"
    new = imports.import_boundaries(
        session,
        SYSTEM,
        write_nuts_file(tmp_path / "pt2024.geojson", PT_2024),
        level=2,
        nuts_version="2024",
    )
    # Stored, not active: maps still read 2021 only, and their data version did not change.
    assert (new.stored, new.active, new.active_version, new.placement) == (3, False, "2021", None)
    assert new.nuts2_sha256 == old.nuts2_sha256
    assert queries.active_version(session, 2) == "2021"
    assert [code for code, _ in queries.nuts2_regions(session)] == ["PT11", "PT17"]
    # PT17 and PT1A overlap: a layer mixing versions would not simplify (not a coverage).
    assert sorted(layers.web_layer(session, "nuts2")["area_code"]) == ["PT11", "PT17"]
    assert session.scalar(select(func.count(Region.id))) == 5  # both versions held

    switched = versions.activate_version(
        session, SYSTEM, level=2, nuts_version="2024", request_id="req-switch"
    )
    assert (switched.previous, switched.nuts_version) == ("2021", "2024")
    assert [code for code, _ in queries.nuts2_regions(session)] == ["PT11", "PT1A", "PT1B"]
    assert [code for code, _, _ in queries.nuts2_shapes(session)] == ["PT11", "PT1A", "PT1B"]
    assert session.scalar(select(Region.code).where(Region.id == lisbon.region_id)) == "PT1A"
    assert switched.placement is not None
    assert switched.placement.inside == 1
    (event,) = events(session, "geo.activate_boundaries")
    assert (event.request_id, event.details["previous"]) == ("req-switch", "2021")
    assert queries.boundary_version(session) == f"nuts2:{switched.nuts2_sha256}"
    assert switched.nuts2_sha256 != old.nuts2_sha256  # every cached layer is rebuilt
    layer = layers.area_layer(session, "nuts2")
    assert sorted(layer["area_code"]) == ["PT11", "PT1A", "PT1B"]  # never two versions at once
    held = {(v.nuts_version, v.active) for v in session.scalars(select(BoundaryVersion))}
    assert held == {("2021", False), ("2024", True)}

    with pytest.raises(InvalidInput, match="No NUTS 2016 boundaries"):
        versions.activate_version(session, SYSTEM, level=2, nuts_version="2016", request_id=None)


def test_importing_with_activate_switches_at_once(session: Session, tmp_path: Path) -> None:
    imports.import_boundaries(
        session,
        SYSTEM,
        write_nuts_file(tmp_path / "pt2021.geojson", PT_2021),
        level=2,
        nuts_version="2021",
    )
    loaded = imports.import_boundaries(
        session,
        SYSTEM,
        write_nuts_file(tmp_path / "pt2024.geojson", PT_2024),
        level=2,
        nuts_version="2024",
        activate=True,
    )
    assert (loaded.active, loaded.active_version) == (True, "2024")
    assert queries.active_version(session, 2) == "2024"


@pytest.mark.parametrize("form", ["shp", "shp.zip", "nested.zip", "gpkg"])
def test_gisco_shapefile_and_geopackage_distributions_import_alike(
    session: Session, tmp_path: Path, form: str
) -> None:
    source = gpd.read_file(write_nuts_file(tmp_path / "source.geojson", REGIONS))
    name = "NUTS_RG_20M_2024_4326_LEVL_2"
    if form == "gpkg":
        path = tmp_path / f"{name}.gpkg"
        source.to_file(path, driver="GPKG", layer=name)
    else:
        folder = tmp_path / "shp"
        folder.mkdir()
        source.to_file(folder / f"{name}.shp")
        path = folder / f"{name}.shp"
        if form != "shp":
            path = tmp_path / f"{name}.shp.zip"
            with zipfile.ZipFile(path, "w") as archive:
                for part in folder.iterdir():
                    archive.write(part, part.name)
        if form == "nested.zip":
            inner, path = path, tmp_path / "ref-nuts-2024-20m.shp.zip"
            with zipfile.ZipFile(path, "w") as archive:
                archive.write(inner, inner.name)
                archive.write(inner, inner.name.replace("LEVL_2", "LEVL_0"))
    assert imports.nuts_version_in_name(path.name if form != "nested.zip" else name) == "2024"
    loaded = imports.import_boundaries(session, SYSTEM, path, level=2, nuts_version="2024")
    assert loaded.stored == 2
    shapes = {code: text for code, text, _ in queries.nuts2_shapes(session)}
    assert set(shapes) == {"FR10", "FR71"}
    assert '"Polygon"' in shapes["FR10"]


# --- import_population ----------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "pop.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_population_import_reads_every_code_through_the_crosswalk(
    session: Session, tmp_path: Path
) -> None:
    imports.import_boundaries(
        session,
        SYSTEM,
        write_nuts_file(tmp_path / "n.geojson", {"EL30": (23, 37, 24.5, 38.5), **REGIONS}),
        level=2,
        nuts_version="2021",
    )
    path = write(
        tmp_path,
        "area_code,year,value,source\n"
        "FRA,2024,68467362,Eurostat\n"  # ISO alpha-3
        "EL,2024,10397193,Eurostat\n"  # Eurostat's Greece
        "uk,2019,66647112,Eurostat\n"  # Eurostat's United Kingdom
        "EL30,2024,3814064,Eurostat\n"
        "FR10,2024,12419961.0,Eurostat\n",  # a whole number written as a decimal
    )
    result = imports.import_population(session, SYSTEM, path, request_id="req-2")
    assert (result.created, result.updated) == (3 + 2, 0)
    assert result.areas_by_level == {"country": 3, "nuts2": 2}
    stored = dict(session.execute(select(Population.area_code, Population.value)).all())
    assert stored == {
        "FR": 68_467_362,
        "GR": 10_397_193,
        "GB": 66_647_112,
        "EL30": 3_814_064,
        "FR10": 12_419_961,
    }
    versions_of = dict(session.execute(select(Population.area_code, Population.nuts_version)).all())
    assert versions_of["EL30"] == "2021"
    assert versions_of["GR"] is None
    countries, regions = result.coverage
    assert (countries.areas, countries.official, len(countries.standins)) == (42, 3, 39)
    assert (regions.areas, regions.standins) == (3, ("FR71",))
    (event,) = events(session, "geo.import_population")
    assert event.details["areas"] == {"country": 3, "nuts2": 2}
    assert event.details["standins"] == {"country": 39, "nuts2": 1}
    assert event.request_id == "req-2"

    again = imports.import_population(session, SYSTEM, path)
    assert (again.created, again.updated) == (0, 5)


def test_a_population_file_with_any_problem_is_refused_whole(
    session: Session, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "area_code,year,value,source\n"
        "AUT,2024,9158750,Eurostat\n"  # fine, but the file is refused: nothing is written
        "ZZZ,2024,1,Eurostat\n"
        "DE,2024,inf,Eurostat\n"
        "FR,2024,1e30,Eurostat\n"
        "IT,2024,-5,Eurostat\n"
        "ES,2024,12.7,Eurostat\n"
        "PT,2024,nan,Eurostat\n"
        "AT,2024,9158750,Eurostat\n"  # AUT again, spelled otherwise
        "GR30,2024,3814064,Eurostat\n"
        "ZZ99,2024,1,Eurostat\n"
        "BE,twenty,1,Eurostat\n"
        "NL,2024,17900000,\n"
        "US,2024,1,Eurostat\n",
    )
    with pytest.raises(PopulationFileRefused) as refused:
        imports.import_population(session, SYSTEM, path)
    problems = {(p.row, p.column): p.message for p in refused.value.problems}
    assert set(problems) == {
        (3, "area_code"),
        (4, "value"),
        (5, "value"),
        (6, "value"),
        (7, "value"),
        (8, "value"),
        (9, "area_code"),
        (10, "area_code"),
        (11, "area_code"),
        (12, "year"),
        (13, "source"),
        (14, "area_code"),
    }
    assert "not a country code" in problems[(3, "area_code")]
    assert "not a finite number" in problems[(4, "value")]
    assert "implausibly large" in problems[(5, "value")]
    assert "cannot be negative" in problems[(6, "value")]
    assert "not a whole number" in problems[(7, "value")]
    assert "also in row 2" in problems[(9, "area_code")]
    assert "Eurostat's EL" in problems[(10, "area_code")]
    assert "not a country of the registry" in problems[(14, "area_code")]
    assert session.scalar(select(Population.id)) is None
    assert events(session, "geo.import_population") == []

    bad = write(tmp_path, "code,value\nFR,1\n", "bad.csv")
    with pytest.raises(PopulationFileRefused) as header:
        imports.import_population(session, SYSTEM, bad)
    assert "missing column(s) area_code, year, source" in header.value.problems[0].message


def test_a_nuts_code_no_version_knows_is_refused(session: Session, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "area_code,year,value,source,nuts_version\n"
        "FRZ9,2024,1,Eurostat,\n"  # shaped like NUTS, in no version
        "PT1A,2024,2100000,Eurostat,\n"  # NUTS 2024 (in the packaged correspondence)
        "PT1A,2023,2090000,Eurostat,2021\n",  # but not a NUTS 2021 code
    )
    with pytest.raises(PopulationFileRefused) as refused:
        imports.import_population(session, SYSTEM, path)
    messages = {p.row: p.message for p in refused.value.problems}
    assert set(messages) == {2, 4}
    assert "not a NUTS code of any version" in messages[2]
    assert "not a NUTS 2021 code" in messages[4]


# --- permissions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["domain_lead", "researcher"])
def test_only_registry_writers_may_import(session: Session, tmp_path: Path, role: str) -> None:
    actor = staff_actor(user_id=7, role=role, domains=["nuclear_medicine"])
    path = write_nuts_file(tmp_path / "nuts2.geojson", REGIONS)
    with pytest.raises(PermissionDenied):
        imports.import_boundaries(session, actor, path, level=2, nuts_version="2021")
    population = write(tmp_path, "area_code,year,value,source\nFR,2024,1,x\n")
    with pytest.raises(PermissionDenied):
        imports.import_population(session, actor, population)
    with pytest.raises(PermissionDenied):
        versions.activate_version(session, actor, level=2, nuts_version="2021", request_id=None)
    with pytest.raises(PermissionDenied):
        versions.place_centres(session, actor, request_id=None)
    assert session.scalar(select(Region.id)) is None
