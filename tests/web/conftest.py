"""Browser tests wait generously: Playwright's ``expect`` polls its condition for up to 30 s
(its default is 5 s), so a loaded machine slows a test down instead of failing it. A condition
that does hold is seen at once; only a failing test waits the whole time."""

from __future__ import annotations

from playwright.sync_api import expect

BROWSER_WAIT_MS = 30_000
expect.set_options(timeout=BROWSER_WAIT_MS)
