"""The first journeys in a real browser: headless Chromium, driven by Playwright."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from surveys import migrate
from surveys.db import make_engine, make_session_factory, transaction
from surveys.demo.centres import load_demo_centres
from surveys.registry.countries import seed_countries
from tests.accounts_fixtures import STAFF_PASSWORD, make_user
from tests.web.live_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    live_server,
    require_chromium,
)

pytestmark = pytest.mark.browser
BROWSER_USER = "browser.coordinator@example.org"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        seed_countries(session)
        load_demo_centres(session)
        make_user(session, role="coordinator", email=BROWSER_USER)
    engine.dispose()
    with live_server(url, log=folder / "server.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, demo_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=demo_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")  # the registry is for signed-in staff
    page.get_by_label("E-mail address").fill(BROWSER_USER)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_home_page_shows_the_demo_registry(page: Page, demo_server: str) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("hi-tech cancer care")
    expect(page.get_by_test_id("centre-count")).to_have_text("1,500")
    expect(page.get_by_test_id("country-count")).to_have_text("32")
    expect(page.get_by_role("note")).to_contain_text("synthetic")
    screenshot(page, "home")
    hosts = {urlparse(url).netloc for url in requested}
    assert hosts == {urlparse(demo_server).netloc}


def test_centre_list_filters_by_country_and_opens_a_centre(page: Page) -> None:
    page.goto("/centres")
    expect(page.get_by_test_id("result-count")).to_have_text("1,500 centres")
    page.get_by_label("Country").select_option(label="Portugal")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]country=PT"))
    rows = page.locator("table.data tbody tr")
    assert rows.count() > 0
    for text in rows.all_inner_texts()[:10]:
        assert "Portugal" in text
        assert "synthetic" in text
    screenshot(page, "centres-portugal")
    first = rows.first.get_by_role("link")
    name = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator(".details")).to_contain_text("Portugal (PT)")
    screenshot(page, "centre-detail")


def test_keyboard_user_can_skip_to_content(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
