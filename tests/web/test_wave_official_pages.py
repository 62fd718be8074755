"""The pages beside a map: change since an earlier wave (map, both values, series) and the
survey beside official statistics; domain leads see them, other domains get 404."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from mapping import official_statistics
from surveys.policy import system_actor
from surveys.registry.models import Population
from tests.accounts_fixtures import SignedIn
from tests.builders import make_centre, make_published_form
from tests.mapping.test_waves import FORM, wave


def prepare(session_factory: sessionmaker[Session], tmp_path: Path) -> str:
    with session_factory() as session, session.begin():
        session.add(
            Population(
                area_code="FR", area_level="country", year=2024, value=68_000_000, source="t"
            )
        )
        centres = [make_centre(session, name=f"C{i}", country="FR") for i in range(3)]
        version = make_published_form(session, FORM)
        for year, units in ((2022, 1), (2024, 2)):
            wave(session, centres, version, year, {0: {"has_pet": "yes", "units": units}})
        later = wave(session, centres, version, 2026, {0: {"has_pet": "yes", "units": 5}})
        series = tmp_path / "series.csv"
        series.write_text(
            "area_code,year,indicator,value,source,flag\nFRA,2025,pet_per_m,10,Registry <b>,e\n",
            encoding="utf-8",
        )
        official_statistics.import_reference(session, system_actor("system:test"), series)
        return later.slug


def test_change_and_official_pages(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    slug = prepare(session_factory, tmp_path)
    lead, _ = client_as("domain_lead", domains=["nuclear_medicine"])
    page = lead.get(f"/maps/{slug}/pet_per_m/change")
    assert page.status_code == 200
    assert "are the same in both waves" in page.text
    assert 'class="ag-map"' in page.text
    assert 'data-testid="series-table"' in page.text  # three waves: the series
    table = lead.get(f"/maps/{slug}/pet_per_m/change.csv")
    (france,) = [r for r in csv.DictReader(io.StringIO(table.text)) if r["area_code"] == "FR"]
    assert float(france["change"]) * 68 == pytest.approx(
        3.0
    )  # 5 units against 2 in the previous wave
    official = lead.get(f"/maps/{slug}/pet_per_m/official")
    assert official.status_code == 200
    assert "Registry &lt;b&gt;" in official.text
    assert "Registry <b>" not in official.text
    assert "<strong>disagrees</strong>" in official.text  # 5 units against 10: ratio 0.5
    rows = list(csv.DictReader(io.StringIO(lead.get(f"/maps/{slug}/pet_per_m/official.csv").text)))
    assert rows[0]["capture_ratio"] == "0.5"
    other, _ = client_as("domain_lead", domains=["surgery"])
    assert other.get(f"/maps/{slug}/pet_per_m/change").status_code == 404
    assert other.get(f"/maps/{slug}/pet_per_m/official").status_code == 404
