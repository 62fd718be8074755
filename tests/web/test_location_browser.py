"""A geopoint and a cascading select in a real Chromium, with JavaScript: a click on the map of
country outlines (no tiles) fills in the location, which is submitted; choosing a state leaves
only its counties. No request may leave the test server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from surveys import migrate
from surveys.campaigns.invitations import issue_invitation
from surveys.db import make_engine, make_session_factory, transaction
from surveys.registry.countries import seed_countries
from surveys.responses.models import Response
from tests.builders import make_campaign, make_centre, make_published_form
from tests.web.live_server import live_server
from tests.web.location_form import LOCATION_FORM
from tests.web.respondent_browser import Outgoing, chromium, new_context, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, list[str]]]:
    """A server on a SQLite file with the location form, and one invitation per test."""
    folder: Path = tmp_path_factory.mktemp("location")
    url = f"sqlite:///{folder / 'location.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        seed_countries(session)
        version = make_published_form(session, LOCATION_FORM)
        centres = [make_centre(session, name=f"Centre {n}", country="FR") for n in (1, 2)]
        campaign = make_campaign(session, slug="wave-geo", centres=centres, versions=[version])
        tokens = [issue_invitation(session, campaign, centre).token for centre in centres]
    engine.dispose()
    with live_server(url, log=folder / "server.log") as base:
        yield base, url, tokens


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def outgoing(server: tuple[str, str, list[str]]) -> Iterator[Outgoing]:
    watched = Outgoing()
    yield watched
    assert watched.hosts <= {server[0].removeprefix("http://")}, watched.hosts


def open_form(browser: Browser, server: tuple[str, str, list[str]], outgoing: Outgoing) -> Page:
    base, _, tokens = server
    page = new_context(browser, base, outgoing)
    page.goto(f"/i/{tokens.pop()}")
    page.get_by_role("link", name="Centre location").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Centre location")
    return page


def test_a_click_on_the_map_sets_the_location_that_is_submitted(
    browser: Browser, server: tuple[str, str, list[str]], outgoing: Outgoing
) -> None:
    page = open_form(browser, server, outgoing)
    picker = page.locator("#q-site .geopoint-map")
    expect(picker).to_be_visible()
    expect(picker.locator(".leaflet-overlay-pane path").first).to_be_attached()  # outlines
    expect(picker.locator(".leaflet-tile")).to_have_count(0)
    latitude, longitude = page.get_by_label("Latitude"), page.get_by_label("Longitude")
    box = picker.bounding_box()
    assert box is not None
    picker.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.6})
    expect(latitude).to_have_value(re.compile(r"^\d+(\.\d+)?$"))
    lat, lon = float(latitude.input_value()), float(longitude.input_value())
    assert 34 < lat < 71
    assert -25 < lon < 45
    screenshot(page, "geopoint-picked")
    page.locator("fieldset#q-state").get_by_label("North", exact=True).check()
    page.locator("fieldset#q-county").get_by_label("Lake County", exact=True).check()
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/r/receipt/"))

    engine = make_engine(server[1])
    with make_session_factory(engine)() as session:
        stored = [a for a in session.scalars(select(Response.answers)) if a.get("site")]
    engine.dispose()
    assert [a["site"] for a in stored] == [f"{latitude_text(lat)} {latitude_text(lon)}"]


def latitude_text(value: float) -> str:
    """A coordinate as the picker writes it: six decimals at most, no trailing zeros."""
    return f"{round(value, 6):.6f}".rstrip("0").rstrip(".")


def test_choosing_a_state_leaves_only_its_counties(
    browser: Browser, server: tuple[str, str, list[str]], outgoing: Outgoing
) -> None:
    page = open_form(browser, server, outgoing)
    state, county = page.locator("fieldset#q-state"), page.locator("fieldset#q-county")
    state.get_by_label("North", exact=True).check()
    expect(county.get_by_label("Lake County", exact=True)).to_be_visible()
    expect(county.get_by_label("Hill County", exact=True)).to_be_visible()
    expect(county.get_by_label("Bay County", exact=True)).to_be_hidden()
    county.get_by_label("Hill County", exact=True).check()
    state.get_by_label("South", exact=True).check()
    expect(county.get_by_label("Bay County", exact=True)).to_be_visible()
    expect(county.get_by_label("Hill County", exact=True)).to_be_hidden()
    expect(county.get_by_label("Hill County", exact=True)).not_to_be_checked()
