"""What the respondent browser tests share: a fresh SQLite database with the catalogue and a
campaign, a pool of invitation links, Chromium, screenshots, and a watch on outgoing requests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Browser, BrowserContext, Page, Request, sync_playwright

from surveys import migrate
from surveys.campaigns.invitations import issue_invitation
from surveys.db import make_engine, make_session_factory, transaction
from surveys.questionnaires.service import load_catalogue
from surveys.registry.countries import seed_countries
from tests.builders import make_campaign, make_centre, make_published_form
from tests.web.live_server import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, require_chromium

# A small form for the keyboard-only journey: a choice, a question it reveals, a text.
KEYBOARD_FORM = """
| survey |
|        | type              | name        | label::en                   | label::fr                      | required | relevant             | constraint |
|        | select_one yes_no | has_pet     | Does the centre have PET/CT? | Le centre a-t-il une TEP/TDM ? | yes      |                      |            |
|        | integer           | pet_units   | How many PET/CT scanners?   | Combien de TEP/TDM ?           | yes      | ${has_pet} = 'yes'   | . >= 0     |
|        | text              | pet_notes   | Notes                       | Remarques                      |          |                      |            |
| choices |
|         | list_name | name | label::en | label::fr |
|         | yes_no    | yes  | Yes       | Oui       |
|         | yes_no    | no   | No        | Non       |
| settings |
|          | form_id  | version | title::en            | title::fr             | domain           |
|          | keyboard | 1       | PET/CT in one minute | La TEP/TDM en une minute | nuclear_medicine |
"""


@dataclass
class Invitations:
    """Invitation links not used yet: every test takes its own centre, so drafts never mix."""

    tokens: dict[str, list[str]] = field(default_factory=dict)

    def take(self, campaign: str) -> str:
        return self.tokens[campaign].pop()


def prepare_database(
    folder: Path, *, centres: int = 6, url: str | None = None
) -> tuple[str, Invitations]:
    """A migrated database (a SQLite file unless ``url`` names another): countries, the
    catalogue, the keyboard form, two open campaigns (radiotherapy; the keyboard form), each
    with ``centres`` invited centres."""
    url = url or f"sqlite:///{folder / 'respondent.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    invitations = Invitations()
    with transaction(make_session_factory(engine)) as session:
        seed_countries(session)
        catalogue = {v.definition["settings"]["form_id"]: v for v in load_catalogue(session)}
        keyboard = make_published_form(session, KEYBOARD_FORM)
        for slug, versions in (
            ("wave-radiotherapy", [catalogue["radiotherapy"]]),
            ("wave-keyboard", [keyboard]),
        ):
            members = [
                make_centre(session, name=f"Centre {slug[5:].title()} {n}", country="FR")
                for n in range(1, centres + 1)
            ]
            campaign = make_campaign(session, slug=slug, centres=members, versions=versions)
            invitations.tokens[slug] = [
                issue_invitation(session, campaign, centre).token for centre in members
            ]
    engine.dispose()
    return url, invitations


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium from the system (never a downloaded build); skipped locally if absent."""
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Outgoing:
    """Every host a page asked for: a respondent page must never call a third party."""

    hosts: set[str] = field(default_factory=set)

    def watch(self, context: BrowserContext) -> None:
        context.on("request", self._seen)

    def _seen(self, request: Request) -> None:
        parsed = urlparse(request.url)
        if parsed.scheme in {"http", "https", "ws", "wss"}:
            self.hosts.add(parsed.netloc)


def new_context(browser: Browser, base_url: str, outgoing: Outgoing, **options: object) -> Page:
    """A fresh browser profile (no cookies) with one page, its requests watched."""
    context = browser.new_context(
        base_url=base_url, viewport={"width": 1280, "height": 900}, **options
    )
    context.set_default_timeout(30_000)  # generous: see tests/web/conftest.py
    outgoing.watch(context)
    return context.new_page()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A PNG under var/screenshots/ (not committed). A full page is taken from the top, where
    the form's sticky toolbar sits in its place."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if full_page:
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page)
    return path
