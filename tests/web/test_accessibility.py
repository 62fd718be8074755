"""WCAG 2.1 AA on the respondent side, checked in a real Chromium: axe-core on every page a centre
sees (no violation of serious or critical impact), and a submission made with the keyboard only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

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

AXE = Axe()
# WCAG 2.0/2.1 A and AA rules, plus axe's best practices (landmarks, headings, regions).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}
REPORT = Path(__file__).resolve().parents[2] / "var" / "axe"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Invitations]]:
    folder = tmp_path_factory.mktemp("accessibility")
    url, invitations = prepare_database(folder)
    with live_server(url, log=folder / "server.log") as base:
        yield base, invitations


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def axe_violations(page: Page, name: str) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; keep a readable report under var/axe/."""
    results = AXE.run(page, options=AXE_OPTIONS)
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / f"{name}.txt").write_text(
        results.generate_snapshot() + "\n\n" + results.generate_report()
    )
    violations: list[dict[str, Any]] = results.response["violations"]
    return violations


def assert_accessible(page: Page, name: str) -> None:
    violations = axe_violations(page, name)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    summary = "\n".join(
        f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']} — "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in blocking
    )
    assert not blocking, f"axe on {name}:\n{summary}"


def assert_ids_unique_and_references_resolve(page: Page) -> None:
    """What axe does not check on content the script adds: duplicate ids, and ``for`` or
    ``aria-*`` references to ids that are not there."""
    problems = page.evaluate(
        r"""() => {
            const problems = [];
            const seen = new Set();
            document.querySelectorAll("[id]").forEach((node) => {
                if (seen.has(node.id)) problems.push(`duplicate id ${node.id}`);
                seen.add(node.id);
            });
            document.querySelectorAll("[for], [aria-describedby], [aria-labelledby]").forEach((node) => {
                ["for", "aria-describedby", "aria-labelledby"].forEach((name) => {
                    (node.getAttribute(name) || "").split(/\s+/).filter(Boolean).forEach((id) => {
                        if (!document.getElementById(id)) problems.push(`${name}=${id} points nowhere`);
                    });
                });
            });
            return problems;
        }"""
    )
    assert not problems, problems


def test_landing_overview_form_review_and_receipt_pass_axe(
    browser: Browser, server: tuple[str, Invitations]
) -> None:
    base, invitations = server
    outgoing = Outgoing()
    page = new_context(browser, base, outgoing)
    page.goto("/")
    assert_accessible(page, "landing")
    screenshot(page, "landing")

    page.goto(f"/i/{invitations.take('wave-radiotherapy')}")
    expect(page).to_have_url(re.compile(r"/r/$"))
    assert_accessible(page, "overview")

    page.get_by_role("link", name="Innovative radiotherapy").click()
    page.get_by_role(
        "group", name=re.compile("external-beam radiotherapy department")
    ).get_by_label("Yes").check()
    # Rows added, one removed, one added again: ids stay unique, references keep their target.
    repeat = page.locator("fieldset[data-repeat='linac_devices']")
    repeat.get_by_role("button", name="Add a row").click()
    repeat.get_by_role("button", name="Add a row").click()
    repeat.get_by_role("button", name="Remove row 1").click()
    repeat.get_by_role("button", name="Add a row").click()
    assert_ids_unique_and_references_resolve(page)
    assert_accessible(page, "form")
    # Reflow (WCAG 1.4.10): at 320 CSS pixels nothing makes the page scroll sideways.
    page.set_viewport_size({"width": 320, "height": 720})
    screenshot(page, "form-320px")
    too_wide = page.evaluate(
        """() => Array.from(document.querySelectorAll("body *"))
            .filter((el) => el.getBoundingClientRect().right > 321 && !el.closest(".matrix-scroll"))
            .map((el) => el.tagName + "." + el.className + " " + Math.round(el.getBoundingClientRect().right))
            .slice(0, 8)"""
    )
    assert not too_wide, too_wide
    page.set_viewport_size({"width": 1280, "height": 900})

    # Submit with a missing answer and an out-of-range one: the error summary and inline errors.
    page.get_by_label(re.compile("Which calendar year")).fill("1990")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "form-with-errors")

    page.get_by_role("button", name="Review answers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review")
    assert_accessible(page, "review")
    screenshot(page, "review-with-problems")

    page.goto(f"/i/{invitations.take('wave-keyboard')}")
    page.get_by_role("link", name="PET/CT in one minute").click()
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/r/receipt/"))
    assert_accessible(page, "receipt")
    assert outgoing.hosts == {base.removeprefix("http://")}
    page.context.close()


def tab_to(page: Page, condition: str, *, limit: int = 40) -> None:
    """Press Tab until the focused element ``el`` meets the JavaScript ``condition``; every stop
    on the way must show where the focus is (WCAG 2.4.7)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            f"""() => {{
                const el = document.activeElement;
                const style = getComputedStyle(el);
                return {{
                    match: Boolean({condition}),
                    visible: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
                    html: el.outerHTML.slice(0, 120),
                }};
            }}"""
        )
        assert focused["visible"], f"no visible focus on {focused['html']}"
        if focused["match"]:
            return
    pytest.fail(f"{limit} presses of Tab never reached {condition}")


def test_a_centre_submits_with_the_keyboard_only(
    browser: Browser, server: tuple[str, Invitations]
) -> None:
    base, invitations = server
    outgoing = Outgoing()
    page = new_context(browser, base, outgoing)
    page.goto(f"/i/{invitations.take('wave-keyboard')}")
    keys = page.keyboard

    tab_to(page, "el.textContent.trim() === 'PET/CT in one minute'")
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("PET/CT in one minute")
    units = page.get_by_label(re.compile("^How many PET/CT scanners"))
    expect(units).to_be_hidden()

    tab_to(page, "el.name === 'has_pet'")
    keys.press("Space")  # the first choice of the group: "Yes"
    expect(page.get_by_label("Yes", exact=True)).to_be_checked()
    expect(units).to_be_visible()  # revealed at once, and next in the focus order
    keys.press("Tab")
    expect(units).to_be_focused()
    keys.type("-1")
    keys.press("Tab")
    expect(page.get_by_label("Notes")).to_be_focused()
    keys.type("Typed with the keyboard only")

    tab_to(page, "el.textContent.trim() === 'Submit'")
    keys.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()  # the summary is read out first
    keys.press("Tab")
    expect(summary.get_by_role("link")).to_be_focused()
    keys.press("Enter")
    expect(units).to_be_focused()  # the link leads to the field itself
    expect(units).to_have_value("-1")
    keys.press("Control+A")
    keys.type("2")

    tab_to(page, "el.textContent.trim() === 'Submit'")
    keys.press("Enter")
    expect(page).to_have_url(re.compile(r"/r/receipt/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you: your answers are submitted"
    )
    expect(page.locator("main")).to_contain_text("Typed with the keyboard only")
    screenshot(page, "keyboard-receipt")
    assert outgoing.hosts == {base.removeprefix("http://")}
    page.context.close()
