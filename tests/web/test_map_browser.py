"""A domain lead opens an indicator map in a real browser: everything comes from this server,
the map draws, its tooltip shows text (never markup), and the figures download."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from mapping.populations import CITY_POPULATION_SOURCE
from surveys import migrate
from surveys.db import make_engine, make_session_factory, transaction
from surveys.registry.countries import seed_countries
from surveys.registry.models import Population
from surveys.responses.submission import submit
from tests.accounts_fixtures import STAFF_PASSWORD, make_user
from tests.builders import make_campaign, make_centre, make_published_form
from tests.web.live_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    live_server,
    require_chromium,
)
from tests.web.test_map_pages import FORM, XSS

pytestmark = pytest.mark.browser
LEAD = "map.lead@example.org"
LONG_SOURCE = CITY_POPULATION_SOURCE  # the long source note that made tooltips 1,252 px wide
MAP_WIDTH_PX = 768
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("maps")
    url = f"sqlite:///{folder / 'maps.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        seed_countries(session)
        session.add(
            Population(
                area_code="FR",
                area_level="country",
                year=2024,
                value=68_000_000,
                source="test figures",
            )
        )
        session.add(
            Population(
                area_code="DE",
                area_level="country",
                year=2024,
                value=84_000_000,
                source=LONG_SOURCE,
            )
        )
        centres = [
            make_centre(session, name=XSS, country="FR", latitude=48.85, longitude=2.35),
            make_centre(session, name="Lyon", country="FR", latitude=45.76, longitude=4.84),
            make_centre(session, name="Berlin", country="DE", latitude=52.5, longitude=13.4),
        ]
        version = make_published_form(session, FORM)
        campaign = make_campaign(session, slug="maps-browser", centres=centres, versions=[version])
        for centre, units in ((centres[0], 3), (centres[2], 5)):
            submit(
                session,
                submission_uuid=str(uuid.uuid4()),
                campaign=campaign,
                centre=centre,
                version=version,
                answers={"has_pet": "yes", "units": units},
                now=NOW,
                actor="t",
            )
        make_user(session, role="domain_lead", email=LEAD, domains=["nuclear_medicine"])
    engine.dispose()
    with live_server(url, log=folder / "server.log") as base:
        yield base


@pytest.fixture
def page(server: str) -> Iterator[Page]:
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            base_url=server, viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("E-mail address").fill(LEAD)
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/$"))
        yield page
        context.close()
        browser.close()


def test_the_map_page_asks_nothing_of_another_host_and_escapes_names(
    page: Page, server: str
) -> None:
    requested: list[str] = []
    problems: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/maps")
    page.get_by_role("link", name="PET/CT per million").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("PET/CT per million")
    expect(page.locator(".ag-map path.leaflet-interactive").first).to_be_visible()
    expect(page.locator("#map-table")).to_contain_text("test figures (2024)")
    marker = page.locator(".ag-map .leaflet-interactive").last
    marker.hover(force=True)
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "map-browser.png"), full_page=True)
    assert {urlparse(url).netloc for url in requested} == {urlparse(server).netloc}
    assert problems == []
    assert dialogs == []
    assert page.locator("img[src='x']").count() == 0  # the payload never became an element

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Figure \\(SVG")).click()
    path = download.value.path()
    assert path is not None
    assert b"<svg" in path.read_bytes()[:500]


def test_a_long_tooltip_wraps_inside_a_768_px_map(page: Page) -> None:
    page.goto("/maps")
    page.get_by_role("link", name="PET/CT per million").click()
    expect(page.locator(".ag-map path.leaflet-interactive").first).to_be_visible()
    canvas = page.locator(".ag-map__canvas")
    name = canvas.get_attribute("id")
    assert name is not None
    # The map at 768 px, as on a tablet or beside the equity panel of a small screen.
    page.evaluate(
        """([name, width]) => {
            document.getElementById(name).style.width = width + "px";
            window[name].invalidateSize();
        }""",
        [name, MAP_WIDTH_PX],
    )
    x, y = page.evaluate(
        """([name]) => {
            const p = window[name].latLngToContainerPoint([51.0, 10.0]);
            return [p.x, p.y];
        }""",
        [name],
    )
    box = canvas.bounding_box()
    assert box is not None
    assert box["width"] == MAP_WIDTH_PX
    page.mouse.move(box["x"] + x, box["y"] + y)  # Germany, whose source note is long
    tooltip = page.locator(".leaflet-tooltip")
    expect(tooltip).to_contain_text("Germany")
    expect(tooltip).to_contain_text("stand-in: GeoNames places")  # the long source note
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "map-tooltip-768.png"))
    shown = tooltip.bounding_box()
    assert shown is not None
    assert shown["width"] < MAP_WIDTH_PX / 2  # wrapped, not one line of over 1,200 px
    assert shown["height"] > 3 * 16  # several lines


def test_the_api_reference_renders_the_openapi_3_1_document(page: Page, server: str) -> None:
    """/api/docs (on this module's server, to start no other): Swagger UI 5 from the app's own
    assets draws every operation of the 3.1 document, with both ways to authenticate, and asks
    no other host for anything (not even a validator)."""
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/api/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 50
    assert "Unable to render" not in page.content()
    page.get_by_role("button", name="Authorize").click()
    dialog = page.locator(".dialog-ux")
    expect(dialog).to_contain_text("HTTPBearer")
    expect(dialog).to_contain_text("sessionCookie")
    expect(dialog).to_contain_text("csrfHeader")
    assert {urlparse(url).netloc for url in requested} == {urlparse(server).netloc}
    assert problems == []
