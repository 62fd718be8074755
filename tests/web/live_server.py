"""A real server for browser tests: uvicorn on a free loopback port, on the test's database.

The server is forked from this test process's fork server (``tests/forks.py``), which has
imported the app already, so it is ready in about a second even on a loaded machine; it serves
the app that ``api.asgi:app`` builds, with the settings ``uvicorn api.asgi:app`` would read from
these environment variables. Readiness is waited for up to ``READY_SECONDS`` (120 s).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.loadkit.servers import READY_SECONDS, free_port, wait_ready
from tests.databases import skip_or_fail
from tests.forks import app_forks

__all__ = ["READY_SECONDS", "free_port", "live_server", "require_chromium"]

CHROMIUM = Path(os.environ.get("ACCESSGAP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@contextmanager
def live_server(database_url: str, *, log: Path) -> Iterator[str]:
    """Serve the app on a free loopback port until the block ends; yield its base URL."""
    env = {"ACCESSGAP_DATABASE_URL": database_url, "ACCESSGAP_ENVIRONMENT": "test"}
    served = app_forks().spawn(env, log, wait=False)
    try:
        wait_ready(served.base, served.pid, log, timeout=READY_SECONDS)
        yield served.base
    finally:
        served.stop(timeout=10)


def require_chromium() -> None:
    if not CHROMIUM.exists():
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
