"""The analysis API: indicator values as JSON and GeoJSON, equity, access to care."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.accounts_fixtures import SignedIn
from tests.web.test_map_pages import XSS, prepare


def test_values_geojson_equity_and_access(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    slug = prepare(session_factory)
    lead, _ = client_as("domain_lead", domains=["nuclear_medicine"])
    base = f"/api/v1/campaigns/{slug}/indicators"
    assert [i["id"] for i in lead.get(base).json()] == ["pet_units"]

    values = lead.get(f"{base}/pet_units").json()
    by_area = {a["area_code"]: a for a in values["areas"]}
    assert by_area["FR"]["value"] == pytest.approx(3 / 68)
    assert by_area["FR"]["denominator_year"] == 2024
    assert by_area["FR"]["denominator_source"] == "test figures"
    assert by_area["FR"]["denominator_standin"] is False
    assert by_area["DE"]["denominator_standin"] is True  # no official figure in the test registry
    denominators = values["denominators"]
    assert denominators["reference_year"] >= 2026  # no answer says otherwise: the campaign's year
    assert denominators["areas_on_standins"] == ["DE"]
    assert denominators["standin_share"] == pytest.approx(0.5)
    assert denominators["warning"].startswith("Warning: 1 of 2 countries (50%)")
    assert "Population: test figures, 2024 (1 area)" in denominators["note"]
    assert by_area["DE"]["value"] is None  # no data, never zero
    assert by_area["DE"]["no_data"] is True

    geojson = lead.get(f"{base}/pet_units/geojson")
    assert geojson.headers["content-type"] == "application/geo+json"
    features = {f["properties"]["area_code"]: f for f in geojson.json()["features"]}
    assert features["FR"]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert features["AL"]["properties"]["no_data"] is True  # not surveyed: never a value
    assert features["AL"]["properties"]["in_study"] is False  # and drawn as outside the study
    assert features["FR"]["properties"]["in_study"] is True
    assert XSS not in geojson.text  # no centre names or contact fields in area properties
    assert set(features["FR"]["properties"]) <= {
        "area_code",
        "area_name",
        "value",
        "numerator",
        "denominator",
        "denominator_source",
        "denominator_year",
        "denominator_standin",
        "expected",
        "responding",
        "coverage",
        "low_coverage",
        "no_data",
        "in_study",
    }

    equity = lead.get(f"{base}/pet_units/equity").json()
    assert equity["areas_with_data"] == 1
    access = {r["area_code"]: r for r in lead.get(f"{base}/pet_units/access").json()}
    # The only centre offering PET/CT is in Paris: most of France is within 200 km or not, but
    # Berlin's population is certainly beyond 200 km of it.
    assert access["DE"]["beyond_200km"] > 0.9
    assert 0 <= access["FR"]["beyond_50km"] <= 1


def test_other_domains_and_roles_are_refused(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    slug = prepare(session_factory)
    other, _ = client_as("domain_lead", domains=["surgery"])
    base = f"/api/v1/campaigns/{slug}/indicators"
    assert other.get(base).status_code == 404  # a campaign of other domains only
    assert other.get(f"{base}/pet_units").status_code == 404
    researcher, _ = client_as("researcher")
    assert researcher.get(f"{base}/pet_units").status_code == 403
