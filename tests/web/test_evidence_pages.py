"""Evidence pages: barriers in the reader's language (other text for staff only), a printable
country profile, who is left out; their CSVs and figures; the JSON routes beside them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.accounts_fixtures import SignedIn
from tests.mapping.test_evidence import OTHER_TEXT, populate


def test_evidence_pages_json_and_downloads(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session, session.begin():
        slug = populate(session).slug
    lead, _ = client_as("domain_lead", domains=["nuclear_medicine"])

    page = lead.get(f"/evidence/{slug}/barriers", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert "<h1>Obstacles à l’accès</h1>" in page.text  # noqa: RUF001 - French typography
    assert "Coût" in page.text
    assert "Waiting for the &lt;b&gt;ministry&lt;/b&gt;" in page.text  # escaped, staff only
    assert OTHER_TEXT not in page.text
    rows = list(csv.DictReader(io.StringIO(lead.get(f"/evidence/{slug}/barriers.csv").text)))
    france = {r["barrier"]: r for r in rows if r["area_code"] == "FR"}
    assert (france["cost"]["citing"], france["cost"]["responding"]) == ("2", "3")
    figure = lead.get(f"/evidence/{slug}/barriers.png", params={"country": "FR"})
    assert figure.content[:4] == b"\x89PNG"
    api = lead.get(f"/api/v1/campaigns/{slug}/barriers", params={"country": "FR"}).json()
    assert api["others"][0]["text"] == OTHER_TEXT
    assert {r["area_code"] for r in api["rows"]} == {"FR", "ALL"}

    profile = lead.get(f"/evidence/{slug}/countries/FR")
    assert profile.status_code == 200
    assert "1 of 2" in profile.text  # France's EU-27 rank for PET/CT per million
    assert "@media print" in lead.get("/static/css/app.css").text
    assert lead.get(f"/evidence/{slug}/countries/ES").status_code == 404
    table = lead.get(f"/evidence/{slug}/countries/FR/profile.csv").text
    assert table.splitlines()[0].startswith("country,domain,indicator,label")
    assert lead.get(f"/evidence/{slug}/countries/FR/profile.svg").content.startswith(b"<?xml")
    api_profile = lead.get(f"/api/v1/campaigns/{slug}/countries/FR/profile").json()
    assert api_profile["indicators"][0]["rank_eu27"] == 1

    left = lead.get(f"/evidence/{slug}/left-out/pet_per_m")
    assert left.status_code == 200
    assert 'class="ag-map"' in left.text
    assert "Lyon" in left.text
    places = lead.get(f"/evidence/{slug}/left-out/pet_per_m/places.csv?distance=100").text
    assert "Lyon" in places
    bad = lead.get(f"/api/v1/campaigns/{slug}/indicators/pet_per_m/left-out?distance=0")
    assert bad.status_code == 422
    assert "above 0" in bad.json()["detail"]

    researcher, _ = client_as("researcher")
    assert researcher.get(f"/evidence/{slug}/barriers").status_code == 403
    assert researcher.get(f"/api/v1/campaigns/{slug}/barriers").status_code == 403
