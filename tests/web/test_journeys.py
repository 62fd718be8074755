"""A centre's journeys in a real Chromium, with JavaScript: the radiotherapy questionnaire from
the invitation link to the receipt (skip logic, a matrix with totals, a repeat, a constraint
error fixed, the browser closed halfway and resumed), a language switch that keeps the draft,
and a second tab that gets 409 on a stale save and keeps its input. No request may leave the
test server."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.databases import fresh_postgres_database
from tests.web.live_server import live_server
from tests.web.respondent_browser import (
    Invitations,
    Outgoing,
    chromium,
    new_context,
    prepare_database,
    screenshot,
)

pytestmark = pytest.mark.browser

# Every required yes/no question of the radiotherapy form other than the department one.
REQUIRED_CHOICES = (
    "has_mr_linac",
    "has_online_adaptive",
    "has_sbrt",
    "has_srs",
    "has_proton",
    "has_carbon_ion",
    "has_brachytherapy",
    "has_iort",
)
AUTOSAVED = re.compile(r"^Saved at \d\d:\d\d UTC$")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Invitations]]:
    """The journeys run against a real server on each database."""
    folder = tmp_path_factory.mktemp("journeys")
    if request.param == "sqlite":
        url, invitations = prepare_database(folder)
        with live_server(url, log=folder / "server.log") as base:
            yield base, invitations
        return
    with fresh_postgres_database("accessgap_journeys") as database_url:
        url, invitations = prepare_database(folder, url=database_url)
        with live_server(url, log=folder / "server.log") as base:
            yield base, invitations


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def outgoing(server: tuple[str, Invitations]) -> Iterator[Outgoing]:
    """Every test ends by checking that its pages asked nothing of any other host."""
    watched = Outgoing()
    yield watched
    assert watched.hosts <= {server[0].removeprefix("http://")}, watched.hosts


def open_radiotherapy(browser: Browser, base: str, token: str, outgoing: Outgoing) -> Page:
    page = new_context(browser, base, outgoing)
    page.goto(f"/i/{token}")
    expect(page).to_have_url(re.compile(r"/r/$"))  # the token is gone from the address
    page.get_by_role("link", name="Innovative radiotherapy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Innovative radiotherapy")
    return page


def choice(page: Page, question: str, label: str) -> None:
    page.locator(f"fieldset#q-{question}").get_by_label(label, exact=True).check()


def test_a_centre_fills_in_the_radiotherapy_questionnaire_end_to_end(
    browser: Browser, server: tuple[str, Invitations], outgoing: Outgoing
) -> None:
    base, invitations = server
    token = invitations.take("wave-radiotherapy")
    page = open_radiotherapy(browser, base, token, outgoing)
    page.get_by_label(re.compile("^I confirm I can answer")).check()
    page.get_by_label(re.compile("^Which calendar year")).fill("2025")

    # Skip logic: the department's details appear only once the centre says it has one.
    courses = page.get_by_label(re.compile("^External-beam radiotherapy courses started"))
    matrix = page.locator("table[data-matrix='rt_treatment_units']")
    expect(courses).to_be_hidden()
    expect(matrix).to_be_hidden()
    choice(page, "has_rt_department", "Yes")
    expect(courses).to_be_visible()
    expect(matrix).to_be_visible()
    courses.fill("1200")
    page.get_by_label(re.compile("^Median waiting time from the decision")).fill("200")

    # The matrix: each cell is named by its row and column; totals follow the typing.
    page.get_by_role("textbox", name=re.compile(r"^Conventional linacs.*Number$")).fill("3")
    page.get_by_role("textbox", name="MR-linacs Number").fill("1")
    page.get_by_role("textbox", name="Gamma Knife Number").fill("0")
    expect(
        matrix.locator("tr", has_text="Conventional linacs").locator("[data-row-total]")
    ).to_have_text("3")
    expect(matrix.locator("[data-column-total='0']")).to_have_text("4")
    expect(matrix.locator("[data-grand-total]")).to_have_text("4")
    expect(page.get_by_text("Total treatment units entered: 4.")).to_be_visible()

    # The repeat: two rows added, the first removed; the second becomes row 1.
    repeat = page.locator("fieldset[data-repeat='linac_devices']")
    rows = repeat.locator(".repeat-rows > .repeat-row")
    repeat.get_by_role("button", name="Add a row").click()
    expect(rows.nth(0).get_by_label(re.compile("^Vendor"))).to_be_focused()
    rows.nth(0).get_by_label(re.compile("^Vendor")).fill("Elekta")
    repeat.get_by_role("button", name="Add a row").click()
    rows.nth(1).get_by_label(re.compile("^Vendor")).fill("Varian")
    rows.nth(1).get_by_label(re.compile("^Model")).fill("TrueBeam")
    rows.nth(1).get_by_label("Year installed").fill("2019")
    expect(rows).to_have_count(2)
    repeat.get_by_role("button", name="Remove row 1").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0).locator(".repeat-row-title")).to_have_text("Row 1")
    expect(rows.nth(0).get_by_label(re.compile("^Vendor"))).to_have_value("Varian")
    expect(rows.nth(0).get_by_label(re.compile("^Vendor"))).to_have_attribute(
        "name", "linac_devices.0.linac_vendor"
    )
    # Conditional text that reads the repeat and the matrix: 1 linac described, 4 counted.
    expect(page.get_by_text("You described 1 linacs")).to_be_visible()

    for question in REQUIRED_CHOICES:
        choice(page, question, "No")
    page.get_by_label("No significant barrier").check()
    expect(page.locator("#save-status")).to_have_text(AUTOSAVED)
    screenshot(page, "journey-form-filled")

    # The browser is closed halfway; the link opens the draft again, everything autosaved.
    page.context.close()
    page = open_radiotherapy(browser, base, token, outgoing)
    expect(page.get_by_label(re.compile("^Which calendar year"))).to_have_value("2025")
    expect(
        page.locator("fieldset#q-has_rt_department").get_by_label("Yes", exact=True)
    ).to_be_checked()
    expect(page.get_by_label(re.compile("^External-beam radiotherapy courses"))).to_have_value(
        "1200"
    )
    expect(page.get_by_role("textbox", name="MR-linacs Number")).to_have_value("1")
    expect(page.locator("table[data-matrix] [data-grand-total]")).to_have_text("4")
    resumed_rows = page.locator("fieldset[data-repeat='linac_devices'] .repeat-rows > .repeat-row")
    expect(resumed_rows).to_have_count(1)
    expect(resumed_rows.nth(0).get_by_label(re.compile("^Vendor"))).to_have_value("Varian")
    expect(page.get_by_label("No significant barrier")).to_be_checked()

    # Submitting with the out-of-range waiting time: the summary links to the field.
    page.get_by_role("button", name="Submit").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_count(1)
    screenshot(page, "journey-form-errors")
    summary.get_by_role("link", name=re.compile("Enter a waiting time from 0 to 104")).click()
    waiting = page.get_by_label(re.compile("^Median waiting time from the decision"))
    expect(waiting).to_be_focused()
    expect(waiting).to_have_value("200")
    expect(waiting).to_have_attribute("aria-invalid", "true")
    waiting.fill("6.5")
    page.get_by_role("button", name="Submit").click()

    expect(page).to_have_url(re.compile(r"/r/receipt/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you: your answers are submitted"
    )
    answers = page.locator("main")
    for text in ("1200", "6.5", "Varian", "TrueBeam", "No significant barrier"):
        expect(answers).to_contain_text(text)
    expect(answers).not_to_contain_text("Elekta")
    screenshot(page, "journey-receipt")
    page.get_by_role("link", name="Back to your questionnaires").click()
    expect(page.locator("table.data")).to_contain_text("Submitted")
    screenshot(page, "journey-overview-submitted")
    page.context.close()


def test_a_language_switch_saves_first_and_keeps_what_was_typed(
    browser: Browser, server: tuple[str, Invitations], outgoing: Outgoing
) -> None:
    base, invitations = server
    page = open_radiotherapy(browser, base, invitations.take("wave-radiotherapy"), outgoing)
    page.get_by_label(re.compile("^Which calendar year")).fill("2024")
    choice(page, "has_rt_department", "Yes")
    page.get_by_role("textbox", name="MR-linacs Number").fill("2")
    page.get_by_label(re.compile("^Anything else we should know")).fill("Typed just before")
    # Switch at once, before any autosave: the switch is a submit button that saves first.
    page.get_by_role("button", name="Français").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Radiothérapie innovante")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("button", name="Enregistrer le brouillon")).to_be_visible()
    expect(page.get_by_label(re.compile("^À quelle année civile"))).to_have_value("2024")
    expect(
        page.locator("fieldset#q-has_rt_department").get_by_label("Oui", exact=True)
    ).to_be_checked()
    expect(page.get_by_role("textbox", name="IRM-linacs Nombre")).to_have_value("2")
    expect(page.get_by_label(re.compile("^Autre chose à savoir"))).to_have_value(
        "Typed just before"
    )
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Enregistré à \d\d:\d\d UTC$"))
    # The script's own texts come from the catalogue too: every status it shows is recorded.
    page.evaluate(
        """() => {
            window.statuses = [];
            const status = document.getElementById("save-status");
            new MutationObserver(() => window.statuses.push(status.textContent))
                .observe(status, { childList: true, characterData: true, subtree: true });
        }"""
    )
    page.get_by_label(re.compile("^Autre chose à savoir")).fill("Tapé ensuite")
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Enregistré à \d\d:\d\d UTC$"))
    assert "Modifications non enregistrées…" in page.evaluate("window.statuses")
    screenshot(page, "journey-form-french")

    # The choice stays with the session: the overview is in French too, and back again.
    page.get_by_role("link", name=re.compile("vos questionnaires")).click()
    expect(page.get_by_role("columnheader", name="État")).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("columnheader", name="Status")).to_be_visible()
    page.context.close()


def test_a_second_tab_gets_409_on_a_stale_save_and_keeps_its_input(
    browser: Browser, server: tuple[str, Invitations], outgoing: Outgoing
) -> None:
    base, invitations = server
    tab_a = open_radiotherapy(browser, base, invitations.take("wave-radiotherapy"), outgoing)
    tab_b = tab_a.context.new_page()
    tab_b.goto(tab_a.url)
    notes = re.compile("^Anything else we should know")

    tab_a.get_by_label(notes).fill("Written in tab A")
    tab_a.get_by_role("button", name="Save draft").click()
    expect(tab_a.get_by_role("status").filter(has_text="Your answers are saved.")).to_be_visible()

    # Tab B still holds the version it loaded: its autosave is refused, its text kept.
    tab_b.get_by_label(notes).fill("Written in tab B")
    status = tab_b.locator("#save-status")
    expect(status).to_contain_text("Someone else saved this questionnaire")
    expect(status).to_contain_text("Your answers are still on this page")
    expect(tab_b.get_by_label(notes)).to_have_value("Written in tab B")
    screenshot(tab_b, "journey-stale-autosave", full_page=False)

    # Saving by hand shows both versions side by side; B's text is still in the field.
    tab_b.get_by_role("button", name="Save draft").click()
    expect(tab_b.get_by_text("The answers saved by the other person")).to_be_visible()
    expect(tab_b.locator("details")).to_contain_text("Written in tab A")
    expect(tab_b.get_by_label(notes)).to_have_value("Written in tab B")
    # Saving once more, knowingly, keeps B's answers.
    tab_b.get_by_role("button", name="Save draft").click()
    expect(tab_b.get_by_role("status").filter(has_text="Your answers are saved.")).to_be_visible()
    tab_a.goto(tab_a.url)  # not a reload: the page came from a POST
    expect(tab_a.get_by_label(notes)).to_have_value("Written in tab B")
    tab_a.context.close()
