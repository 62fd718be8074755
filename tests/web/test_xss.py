"""Stored XSS (RELIABILITY.md scenario 42): payloads in every stored text, rendered in Chromium.

The payloads go into centre names, cities and provenance, user names, token names and audit
details; every page that shows them is opened in headless Chromium. Expected: no dialog, no
injected element, and the payload shown as literal text. A grep gate keeps ``|safe`` and
``Markup(`` out of the templates and the web code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from surveys import migrate
from surveys.accounts.schemas import TokenCreate
from surveys.accounts.tokens import issue_token
from surveys.audit import service as audit
from surveys.db import make_engine, make_session_factory, transaction
from surveys.policy import Permission, system_actor
from surveys.registry.countries import seed_countries
from tests.accounts_fixtures import STAFF_PASSWORD, make_user
from tests.builders import make_centre
from tests.web.live_server import CHROMIUM, CHROMIUM_ARGS, live_server, require_chromium

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = (
    "<script>alert('xss1')</script>",
    '"><img src=x id=injected onerror=alert(2)>',
    "</script><script>alert(3)</script>",
    "javascript:alert(4)",
    "{{7*7}} ${7*7} <%= 7*7 %>",
    "<svg id=injected onload=alert(5)>",
    "'; alert(6); '",
)
ADMIN_EMAIL = "xss.admin@example.org"
# Reviewed uses of Markup(): file -> (how many, why it is safe). Adding one needs a review.
REVIEWED_MARKUP = {
    "web/map_pages.py": (
        2,
        "the folium map fragment (choropleth_map escapes every text) and the page's tables, "
        "rendered by the autoescaping template maps/_tables.html (kept with the cached map)",
    ),
    "web/wave_pages.py": (1, "the map of change: the same choropleth_map fragment"),
    "web/evidence_pages.py": (1, "the left-out map: the same choropleth_map fragment"),
}


class TestGrepGate:
    def test_no_safe_filter_or_markup_on_user_data(self) -> None:
        offences = []
        for path in (ROOT / "web" / "templates").rglob("*.html"):
            for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
                if re.search(r"\|\s*safe\b", line):
                    offences.append(f"{path.relative_to(ROOT)}:{number}: |safe")
        for folder in ("web", "api", "mapping"):
            for path in (ROOT / folder).rglob("*.py"):
                text = path.read_text("utf-8")
                name = path.relative_to(ROOT).as_posix()
                uses = len(re.findall(r"\bMarkup\(", text))
                if uses != REVIEWED_MARKUP.get(name, (0, ""))[0]:
                    offences.append(
                        f"{name}: {uses} Markup( (reviewed: {REVIEWED_MARKUP.get(name)})"
                    )
                if "autoescape=False" in text:
                    offences.append(f"{name}: autoescape=False")
        assert offences == []

    def test_the_gate_sees_an_offence(self, tmp_path: Path) -> None:
        assert re.search(r"\|\s*safe\b", "{{ centre.name | safe }}")
        assert re.search(r"\bMarkup\(", "return Markup(name)")


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    folder = tmp_path_factory.mktemp("xss")
    url = f"sqlite:///{folder / 'xss.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    ids: dict[str, object] = {}
    with transaction(make_session_factory(engine)) as session:
        seed_countries(session)
        centres = [make_centre(session, name=f"Centre {p}", country="MT", city=p) for p in PAYLOADS]
        make_user(session, role="admin", email=ADMIN_EMAIL, display_name="XSS admin")
        victims = [make_user(session, role="researcher", display_name=p) for p in PAYLOADS]
        for user, payload in zip(victims, PAYLOADS, strict=True):
            issue_token(
                session,
                user,
                TokenCreate(name=payload[:100], scopes=[Permission.EXPORT_PSEUDONYMISED]),
            )
            audit.record(
                session,
                actor=system_actor(),
                action="xss.test",
                object_type=payload[:40],
                object_id=payload[:64],
                details={"note": payload},
            )
        ids["centre"] = centres[0].public_id
        ids["user"] = victims[1].id
    engine.dispose()
    with live_server(url, log=folder / "server.log") as base:
        ids["base"] = base
        yield ids


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
def admin_page(browser: Browser, xss_server: dict[str, object]) -> Iterator[Page]:
    context = browser.new_context(base_url=str(xss_server["base"]))
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail address").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    yield page
    context.close()


@pytest.mark.browser
def test_stored_payloads_are_shown_as_text_and_never_run(
    admin_page: Page, xss_server: dict[str, object]
) -> None:
    dialogs: list[str] = []
    admin_page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    pages = {
        "/centres?country=MT": PAYLOADS,
        f"/centres/{xss_server['centre']}": PAYLOADS[:1],
        "/admin/users": PAYLOADS,
        f"/admin/users/{xss_server['user']}": PAYLOADS[1:2],
        "/admin/tokens": PAYLOADS,
        "/admin/audit?action=xss.test": PAYLOADS,
    }
    for url, expected in pages.items():
        response = admin_page.goto(url)
        assert response is not None
        assert response.status == 200, url
        text = admin_page.inner_text("main")
        for payload in expected:
            assert payload[:40] in text, f"{url} does not show {payload!r} literally"
        assert admin_page.locator("#injected").count() == 0, url
        assert admin_page.locator("main script").count() == 0, url
        assert admin_page.evaluate("typeof window.xss === 'undefined'")
    assert dialogs == []
