"""Placing centres in NUTS-2 regions with real coordinates on the packaged GISCO 1:20M layer:
inside, else the nearest region of the centre's country within 25 km, else unplaced; the
import reports all three and the coordinators' page lists them."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mapping import imports, official, versions
from mapping.boundaries import read_nuts_geojson
from mapping.placement import place_points
from surveys.audit.models import AuditEvent
from surveys.policy import system_actor
from surveys.registry.models import Centre, Region
from tests.accounts_fixtures import SignedIn
from tests.builders import make_centre

SYSTEM = system_actor("system:test")
VATICAN = (41.9022, 12.4533)  # St Peter's: Vatican City is a hole in Lazio (ITI4)
COLOSSEUM = (41.8902, 12.4922)  # central Rome, inside the hole of the generalised polygon
BARCELONA_OFFSHORE = (41.30, 2.30)  # some 13 km off the 1:20M coast of Catalonia (ES51)
FURTHER_OFFSHORE = (41.20, 2.40)  # about 27 km off it: too far
BALEARIC_SEA = (40.50, 4.50)  # between Menorca and Sardinia
PARIS = (48.8566, 2.3522)


@pytest.fixture(scope="module")
def level_2() -> gpd.GeoDataFrame:
    with official.reference_file(official.boundary_file_name(2)) as path:
        return read_nuts_geojson(path)


def points(*located: tuple[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"country": [country for country, _ in located]},
        geometry=[Point(lon, lat) for _, (lat, lon) in located],
        crs="EPSG:4326",
    )


def test_centres_outside_every_polygon_go_to_the_nearest_region_within_25_km(
    level_2: gpd.GeoDataFrame,
) -> None:
    placed = place_points(
        points(
            ("FR", PARIS),
            ("IT", VATICAN),
            ("IT", COLOSSEUM),
            ("ES", BARCELONA_OFFSHORE),
            ("ES", FURTHER_OFFSHORE),
            ("ES", BALEARIC_SEA),
        ),
        level_2,
    )
    assert placed["region"].tolist()[:4] == ["FR10", "ITI4", "ITI4", "ES51"]
    assert placed["placement"].tolist()[:4] == ["inside", "proximity", "proximity", "proximity"]
    assert placed.loc[0, "distance_km"] == 0
    assert 2 < placed.loc[1, "distance_km"] < 5  # St Peter's to Lazio's generalised outline
    assert 10 < placed.loc[3, "distance_km"] < 16
    # Beyond 25 km: unplaced, with the nearest region named for whoever checks it.
    assert placed.loc[4:, "region"].isna().all()
    assert placed.loc[4:, "placement"].isna().all()
    assert placed.loc[4, "nearest"] == "ES51"
    assert 25 < placed.loc[4, "nearest_km"] < 30
    assert placed.loc[5, "nearest"] == "ES53"


def test_only_regions_of_the_centres_country_are_near_enough(level_2: gpd.GeoDataFrame) -> None:
    # Registered in Austria but at sea off Barcelona: no Austrian region within reach.
    placed = place_points(points(("AT", BARCELONA_OFFSHORE)), level_2)
    assert pd.isna(placed.loc[0, "region"])
    assert str(placed.loc[0, "nearest"]).startswith("AT")
    assert placed.loc[0, "nearest_km"] > 500


def test_the_boundary_import_reports_placed_by_proximity_and_unplaced(session: Session) -> None:
    make_centre(session, name="Paris", country="FR", latitude=PARIS[0], longitude=PARIS[1])
    make_centre(session, name="Vatican", country="IT", latitude=VATICAN[0], longitude=VATICAN[1])
    make_centre(
        session,
        name="Offshore",
        country="ES",
        latitude=BARCELONA_OFFSHORE[0],
        longitude=BARCELONA_OFFSHORE[1],
    )
    make_centre(
        session, name="At sea", country="ES", latitude=BALEARIC_SEA[0], longitude=BALEARIC_SEA[1]
    )
    make_centre(session, name="Nowhere", country="DE", latitude=None, longitude=None)
    make_centre(session, name="Kyiv", country="UA", latitude=50.45, longitude=30.52)
    with official.reference_file(official.boundary_file_name(2)) as path:
        loaded = imports.import_boundaries(
            session, SYSTEM, path, level=2, nuts_version="2021", request_id="req-place"
        )
    placement = loaded.placement
    assert placement is not None
    assert (placement.inside, placement.by_proximity, placement.without_coordinates) == (1, 2, 1)
    assert placement.uncovered == {"UA": 1}  # NUTS has no Ukrainian region: not "unplaced"
    (at_sea,) = placement.unplaced
    assert (at_sea.name, at_sea.country) == ("At sea", "ES")
    assert (at_sea.latitude, at_sea.longitude) == BALEARIC_SEA
    assert at_sea.nearest_region == "ES53"
    rows = session.execute(
        select(Centre.name, Region.code, Centre.region_placement, Centre.region_distance_km)
        .outerjoin(Region, Region.id == Centre.region_id)
        .order_by(Centre.name)
    ).all()
    by_name = {name: (code, how, km) for name, code, how, km in rows}
    assert by_name["Paris"] == ("FR10", "inside", 0.0)
    assert by_name["Vatican"][:2] == ("ITI4", "proximity")
    assert by_name["Offshore"][:2] == ("ES51", "proximity")
    assert by_name["At sea"] == (None, None, None)
    event = session.scalar(select(AuditEvent).where(AuditEvent.request_id == "req-place"))
    assert event is not None
    assert event.details["centres_inside"] == 1
    assert event.details["centres_by_proximity"] == 2
    assert event.details["centres_unplaced"] == 1
    assert event.details["centres_in_countries_without_regions"] == 1

    report = versions.placement_report(session, SYSTEM)
    assert [c["name"] for c in report.unplaced] == ["At sea"]
    assert sorted(c["name"] for c in report.by_proximity) == ["Offshore", "Vatican"]

    # A centre added later is placed by the use case the CLI calls after a centre import.
    make_centre(session, name="Rome", country="IT", latitude=COLOSSEUM[0], longitude=COLOSSEUM[1])
    again = versions.place_centres(session, SYSTEM, request_id="req-again")
    assert (again.inside, again.by_proximity, len(again.unplaced)) == (1, 3, 1)


def test_coordinators_see_unplaced_centres_with_their_coordinates(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session, session.begin():
        make_centre(
            session,
            name="At sea",
            country="ES",
            latitude=BALEARIC_SEA[0],
            longitude=BALEARIC_SEA[1],
        )
        make_centre(
            session, name="Vatican", country="IT", latitude=VATICAN[0], longitude=VATICAN[1]
        )
        with official.reference_file(official.boundary_file_name(2)) as path:
            imports.import_boundaries(session, SYSTEM, path, level=2, nuts_version="2021")
    coordinator, _ = client_as("coordinator")
    page = coordinator.get("/admin/geo")
    assert page.status_code == 200
    unplaced = page.text.split('data-testid="unplaced-centres"')[1].split("</table>")[0]
    assert "At sea" in unplaced
    assert "40.50000" in unplaced
    assert "4.50000" in unplaced
    proximity = page.text.split('data-testid="proximity-centres"')[1].split("</table>")[0]
    assert "Vatican" in proximity
    assert "ITI4" in proximity
    assert "NUTS 2021" in page.text
    assert "/admin/geo" in coordinator.get("/admin").text
    researcher, _ = client_as("researcher")
    assert researcher.get("/admin/geo").status_code == 403


def test_centres_registered_or_imported_by_staff_are_placed_at_once(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    with (
        session_factory() as session,
        session.begin(),
        official.reference_file(official.boundary_file_name(2)) as path,
    ):
        imports.import_boundaries(session, SYSTEM, path, level=2, nuts_version="2021")
    coordinator, signed = client_as("coordinator")
    body = {"name": "Paris centre", "country": "FR", "latitude": PARIS[0], "longitude": PARIS[1]}
    created = coordinator.post("/api/v1/centres", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["region"] == "FR10"
    moved = coordinator.patch(
        f"/api/v1/centres/{created.json()['id']}",
        json={
            "version": created.json()["version"],
            "latitude": VATICAN[0],
            "longitude": VATICAN[1],
            "country": "IT",
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["region"] == "ITI4"  # by proximity: the Vatican is a hole in Lazio

    csv = f"name,country,latitude,longitude\nColosseum centre,IT,{COLOSSEUM[0]},{COLOSSEUM[1]}\n"
    page = coordinator.post(
        "/admin/centres/import",
        data={"csrf_token": signed.csrf},
        files={"file": ("centres.csv", csv.encode(), "text/csv")},
    )
    assert page.status_code == 200, page.text
    placed = page.text.split('data-testid="import-placement"')[1].split("</p>")[0]
    assert "2 placed by proximity" in placed
    with session_factory() as session:
        region = session.scalar(
            select(Region.code)
            .join(Centre, Centre.region_id == Region.id)
            .where(Centre.name == "Colosseum centre")
        )
    assert region == "ITI4"
