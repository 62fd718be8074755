"""Map pages: a domain lead sees the maps of their domain, with a table, equity and downloads."""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import io
import re
import uuid
from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.v1 import indicators as indicators_api
from surveys.registry.models import Population
from surveys.responses.service import submit
from tests.accounts_fixtures import SignedIn
from tests.builders import make_campaign, make_centre, make_published_form
from tests.mapping.spies import counting_numerators, reading, statements
from web import map_pages

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
FORM = """
| survey |
|        | type              | name    | label::en      | required | relevant           |
|        | select_one yes_no | has_pet | PET/CT?        | yes      |                    |
|        | integer           | units   | Units          | yes      | ${has_pet} = 'yes' |
| choices |
|         | list_name | name | label::en |
|         | yes_no    | yes  | Yes       |
|         | yes_no    | no   | No        |
| indicators |
|            | id         | numerator  | aggregation | denominator            | label::en          | unit::en          |
|            | pet_units  | ${units}   | sum         | population_per_million | PET/CT per million | units per million |
| settings |
|          | form_id | version | form_title | domain           |
|          | petmap  | 1       | PET        | nuclear_medicine |
"""
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def prepare(session_factory: sessionmaker[Session]) -> str:
    with session_factory() as session, session.begin():
        session.add(
            Population(
                area_code="FR",
                area_level="country",
                year=2024,
                value=68_000_000,
                source="test figures",
            )
        )
        centres = [
            make_centre(session, name=XSS, country="FR", latitude=48.85, longitude=2.35),
            make_centre(session, name="Lyon", country="FR", latitude=45.76, longitude=4.84),
            make_centre(session, name="Berlin", country="DE", latitude=52.5, longitude=13.4),
        ]
        version = make_published_form(session, FORM)
        slug = f"maps-{uuid.uuid4().hex[:6]}"
        campaign = make_campaign(session, slug=slug, centres=centres, versions=[version])
        submit(
            session,
            submission_uuid=str(uuid.uuid4()),
            campaign=campaign,
            centre=centres[0],
            version=version,
            answers={"has_pet": "yes", "units": 3},
            now=NOW,
            actor="t",
        )
    return slug


def test_a_domain_lead_sees_the_map_table_equity_and_downloads(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    slug = prepare(session_factory)
    lead, _ = client_as("domain_lead", domains=["nuclear_medicine"])
    index = lead.get("/maps", params={"campaign": slug})
    assert index.status_code == 200
    assert "PET/CT per million" in index.text
    page = lead.get(f"/maps/{slug}/pet_units")
    assert page.status_code == 200
    assert 'class="ag-map"' in page.text
    assert "test figures (2024)" in page.text
    # Germany has no official figure in the test registry: 1 of 2 countries on a stand-in.
    warning = page.text.split('data-testid="denominator-warning">')[1].split("</p>")[0]
    assert warning.startswith("Warning: 1 of 2 countries (50%) have no official denominator")
    assert "stand-in: GeoNames" in page.text
    assert "1 / 2" in page.text  # responding / expected in France
    assert "Low coverage" not in page.text.split("<tbody>")[1].split("France")[1][:400]
    assert XSS not in page.text  # the centre's name appears escaped only
    assert not re.search(r"https?://(?!127\.0\.0\.1)", page.text.replace("http://testserver", ""))
    for script in re.findall(r"<script\b[^>]*>", page.text):
        assert "nonce=" in script
    table = lead.get(f"/maps/{slug}/pet_units/data.csv")
    rows = {r["area_code"]: r for r in csv.DictReader(io.StringIO(table.text))}
    assert float(rows["FR"]["value"]) == pytest.approx(3 / 68)
    assert rows["DE"]["no_data"] == "True"
    figure = lead.get(f"/maps/{slug}/pet_units/figure.svg")
    assert figure.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in figure.content[:400]


def test_a_lead_of_another_domain_gets_404(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    slug = prepare(session_factory)
    other, _ = client_as("domain_lead", domains=["surgery"])
    assert other.get(f"/maps/{slug}/pet_units").status_code == 404
    assert "PET/CT per million" not in other.get("/maps", params={"campaign": slug}).text


def test_researchers_and_visitors_cannot_open_maps(
    client: TestClient,
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    slug = prepare(session_factory)
    researcher, _ = client_as("researcher")
    assert researcher.get(f"/maps/{slug}/pet_units").status_code == 403
    visitor = client.get(f"/maps/{slug}/pet_units", follow_redirects=False)
    assert visitor.status_code in {303, 401}


def test_one_page_view_reads_the_responses_once_and_evaluates_each_numerator_once(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slug = prepare(session_factory)
    lead, _ = client_as("domain_lead", domains=["nuclear_medicine"])
    calls = counting_numerators(monkeypatch)
    with statements(engine) as seen:
        page = lead.get(f"/maps/{slug}/pet_units")
    assert page.status_code == 200
    assert len(reading("response", seen)) == 1  # was 3: the map, its centres, the access table
    assert len(reading("questionnaire_version", seen)) == 1  # was 3: the indicator specs
    assert calls == [1]  # one evaluation of the one submitted response (was 3)


def test_map_handlers_never_run_on_the_event_loop() -> None:
    """Sync handlers run in the thread pool: their database work never blocks the loop."""
    routes = [*map_pages.router.routes, *indicators_api.router.routes]
    assert len(routes) >= 9
    for route in routes:
        assert isinstance(route, APIRoute)
        assert not inspect.iscoroutinefunction(route.endpoint), route.path
