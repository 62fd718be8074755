"""Map pages: a domain lead sees the maps of their domain, with a table, equity and downloads."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
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
from surveys.campaigns.lifecycle import get_campaign
from surveys.questionnaires.service import get_version
from surveys.registry.models import Centre, Population
from surveys.responses.submission import submit
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
    answers = [s for s in reading("response", seen) if "response.answers" in s]
    assert len(answers) == 1  # was 3: the map, its centres, the access table
    assert len(reading("questionnaire_version", seen)) == 1  # was 3: the indicator specs
    assert calls == [1]  # one evaluation of the one submitted response (was 3)

    # The same page again, the data unchanged: served from the map cache (mapping.cache),
    # which costs one summary of the data, no answers read and nothing evaluated.
    with statements(engine) as again:
        second = lead.get(f"/maps/{slug}/pet_units")
    assert second.status_code == 200
    assert not [s for s in again if "response.answers" in s]
    assert not reading("questionnaire_version", again)
    assert calls == [1]
    nonces = [
        re.findall(r"'nonce-([^']+)'", p.headers["content-security-policy"])[0]
        for p in (page, second)
    ]
    assert nonces[0] != nonces[1]
    for response, nonce in zip((page, second), nonces, strict=True):
        assert f'nonce="{nonce}"' in response.text


def test_map_handlers_never_run_on_the_event_loop() -> None:
    """Sync handlers run in the thread pool: their database work never blocks the loop."""
    routes = [*map_pages.router.routes, *indicators_api.router.routes]
    assert len(routes) >= 9
    for route in routes:
        assert isinstance(route, APIRoute)
        assert not inspect.iscoroutinefunction(route.endpoint), route.path


def answer(
    session_factory: sessionmaker[Session], slug: str, centre: str, answers: dict[str, object]
) -> None:
    """A submitted answer of the named centre to the campaign's PET form."""
    with session_factory() as session, session.begin():
        found = session.query(Centre).filter(Centre.name == centre).one()
        submit(
            session,
            submission_uuid=str(uuid.uuid4()),
            campaign=get_campaign(session, slug),
            centre=found,
            version=get_version(session, "petmap"),
            answers=answers,
            now=NOW,
            actor="t",
        )


def new_campaign(
    session_factory: sessionmaker[Session], *, located: bool, others: tuple[str, ...] = ()
) -> str:
    """A campaign sent to two French centres (and one in each of ``others``), before any
    answer."""
    with session_factory() as session, session.begin():
        place = {"latitude": 48.85, "longitude": 2.35} if located else {}
        centres = [
            make_centre(session, name="Nowhere A", country="FR", **place),
            make_centre(session, name="Nowhere B", country="FR", latitude=None, longitude=None),
            *(make_centre(session, name=f"In {code}", country=code) for code in others),
        ]
        version = make_published_form(session, FORM)
        slug = f"new-{uuid.uuid4().hex[:6]}"
        make_campaign(session, slug=slug, centres=centres, versions=[version])
    return slug


def test_equity_figures_each_under_its_own_label_and_an_eu_27_benchmark(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    slug = prepare(session_factory)
    lead, _ = client_as("domain_lead", domains=["nuclear_medicine"])
    page = lead.get(f"/maps/{slug}/pet_units").text
    equity = page.split('id="equity-heading"')[1].split("</dl>")[0]
    assert re.search(r"<dt>Gini \(unweighted\)</dt><dd>[0-9.]+</dd>", equity)
    assert re.search(r"<dt>Gini \(population-weighted\)</dt><dd>[0-9.]+</dd>", equity)
    assert "EU-27 median (1 of 27 member states with data)" in equity
    assert "Shortfall to benchmark" in page


def test_the_ratio_of_a_zero_minimum_is_unbounded_in_the_json(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    slug = prepare(session_factory)
    answer(session_factory, slug, "Berlin", {"has_pet": "no"})  # Germany: 0 units, not a blank
    lead, _ = client_as("domain_lead", domains=["nuclear_medicine"])
    base = f"/api/v1/campaigns/{slug}/indicators/pet_units"
    equity = lead.get(f"{base}/equity").json()
    assert equity["areas_with_data"] == 2
    assert equity["max_min_ratio"] == "unbounded"
    assert equity["benchmark_label"] == "EU-27 median (2 of 27 member states with data)"
    assert equity["gap_kind"] == "shortfall"
    assert equity["weighted_by"] == "population"
    page = lead.get(f"/maps/{slug}/pet_units").text
    assert "unbounded (the lowest area has none)" in page


@pytest.mark.parametrize("located", [False, True], ids=["no-coordinates", "located"])
def test_a_campaign_before_its_first_answer_maps_no_data_everywhere(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
    located: bool,
) -> None:
    slug = new_campaign(session_factory, located=located)
    lead, _ = client_as("domain_lead", domains=["nuclear_medicine"])
    page = lead.get(f"/maps/{slug}/pet_units")
    assert page.status_code == 200
    body = page.text.split("<tbody>")[1].split("</tbody>")[0]
    assert "France" in body
    assert body.count("No data") == 1  # the one country of the study, none of the others
    assert "No centre has answered yet." in page.text
    base = f"/api/v1/campaigns/{slug}/indicators/pet_units"
    for url in (base, f"{base}/equity", f"{base}/access", f"{base}/geojson"):
        response = lead.get(url)
        assert response.status_code == 200, url
    assert lead.get(f"{base}/equity").json()["max_min_ratio"] is None  # no area: null
    assert lead.get(f"{base}/access").json() == []
    table = lead.get(f"/maps/{slug}/pet_units/data.csv")
    assert table.status_code == 200
    assert [r["no_data"] for r in csv.DictReader(io.StringIO(table.text))] == ["True"]
    for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")):
        figure = lead.get(f"/maps/{slug}/pet_units/figure.{fmt}")
        assert figure.status_code == 200
        assert figure.content.startswith(magic)

    # The first answer comes from a centre without coordinates: a value, no distances.
    answer(session_factory, slug, "Nowhere B", {"has_pet": "yes", "units": 2})
    page = lead.get(f"/maps/{slug}/pet_units")
    assert page.status_code == 200
    assert "None of the centres that answered has known coordinates" in page.text
    assert lead.get(f"{base}/access").status_code == 200


def test_pages_json_and_csv_come_back_gzipped_when_asked(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    # Twenty countries: a table of a few kilobytes.
    others = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "GR", "HR", "HU")
    slug = new_campaign(session_factory, located=True, others=(*others, "IE", "IT", "LT", "LU"))
    answer(session_factory, slug, "Nowhere A", {"has_pet": "yes", "units": 2})
    lead, _ = client_as("domain_lead", domains=["nuclear_medicine"])
    for url in (
        f"/maps/{slug}/pet_units",
        f"/api/v1/campaigns/{slug}/indicators/pet_units/geojson",
        f"/maps/{slug}/pet_units/data.csv",
    ):
        with lead.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
            raw = b"".join(response.iter_raw())
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip", url
        assert "accept-encoding" in response.headers["vary"].lower()
        unpacked = gzip.decompress(raw)
        assert len(raw) < len(unpacked) / 2, url
        with lead.stream("GET", url, headers={"Accept-Encoding": "identity"}) as plain:
            assert "content-encoding" not in plain.headers
    # Already compressed: sent as it is.
    png = lead.get(f"/maps/{slug}/pet_units/figure.png", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in png.headers
    page = lead.get(f"/maps/{slug}/pet_units", headers={"Accept-Encoding": "gzip"})
    assert page.text.lower().startswith("<!doctype html>")  # decoded, as by any browser


WAIT_FORM = """
| survey |
|        | type              | name    | label::en | required | relevant           |
|        | select_one yes_no | has_pet | PET/CT?   | yes      |                    |
|        | decimal           | wait    | Weeks     |          | ${has_pet} = 'yes' |
| choices |
|         | list_name | name | label::en |
|         | yes_no    | yes  | Yes       |
|         | yes_no    | no   | No        |
| indicators |
|            | id       | numerator | aggregation | denominator | label::en       | unit::en | higher_is_better |
|            | pet_wait | ${wait}   | median      | none        | Wait for PET/CT | weeks    | no               |
| settings |
|          | form_id  | version | form_title | domain           |
|          | petwait  | 1       | PET wait   | nuclear_medicine |
"""


def test_a_waiting_time_page_flags_the_excess_and_says_lower_is_better(
    client_as: Callable[..., tuple[TestClient, SignedIn]],
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session, session.begin():
        centres = [
            make_centre(session, name="Paris", country="FR", latitude=48.85, longitude=2.35),
            make_centre(session, name="Berlin", country="DE", latitude=52.5, longitude=13.4),
            make_centre(session, name="Zurich", country="CH", latitude=47.37, longitude=8.54),
        ]
        version = make_published_form(session, WAIT_FORM)
        slug = f"wait-{uuid.uuid4().hex[:6]}"
        campaign = make_campaign(session, slug=slug, centres=centres, versions=[version])
        for centre, weeks in zip(centres, (6.0, 2.0, 1.0), strict=True):
            submit(
                session,
                submission_uuid=str(uuid.uuid4()),
                campaign=campaign,
                centre=centre,
                version=version,
                answers={"has_pet": "yes", "wait": weeks},
                now=NOW,
                actor="t",
            )
    lead, _ = client_as("domain_lead", domains=["nuclear_medicine"])
    page = lead.get(f"/maps/{slug}/pet_wait").text
    assert "Wait for PET/CT (weeks); lower is better" in page  # the map legend's title
    assert "Excess over benchmark (lower is better)" in page
    assert "EU-27 median (2 of 27 member states with data)" in page  # not Switzerland's week
    assert "Gini (population-weighted)" not in page  # no population behind a waiting time
    equity = lead.get(f"/api/v1/campaigns/{slug}/indicators/pet_wait/equity").json()
    assert equity["benchmark"] == 4.0
    assert equity["gap_kind"] == "excess"
    assert equity["gaps"] == {"FR": 2.0, "DE": 0.0, "CH": 0.0}
    assert equity["gini_population_weighted"] is None
