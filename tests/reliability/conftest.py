"""Fixtures of the load and fault tests (RELIABILITY.md sections C and D), bounded for ``make
test``; ``make soak`` runs the same drivers at full length (``bench/soak.py``).

These tests start real servers (forked uvicorn, or gunicorn with two workers) on loopback
against an empty database of their own: a SQLite file in a temporary folder, or a fresh
PostgreSQL database dropped at the end. Nothing here shares a database with the other tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.loadkit.servers import Zygote
from tests.databases import fresh_postgres_database

DATABASES = ("sqlite", "postgresql")


def soak_sized(bounded: int, soak: int) -> int:
    """A fault test's size: ``bounded`` in ``make test``, ``soak`` when ``ACCESSGAP_SOAK=1``.

    The one switch ``make soak`` flips to run the same tests longer and on more data.
    """
    return soak if os.environ.get("ACCESSGAP_SOAK", "") not in ("", "0") else bounded


@pytest.fixture(params=DATABASES)
def server_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (not migrated) for one test's servers."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reliability.sqlite3'}"
        return
    with fresh_postgres_database("accessgap_reliability") as url:
        yield url


@pytest.fixture
def zygote(tmp_path: Path) -> Iterator[Zygote]:
    """A fork server that has imported the app: each uvicorn server starts in a fraction of a
    second, so a crash test can restart twenty times."""
    with Zygote(tmp_path / "zygote.log") as forks:
        yield forks


@pytest.fixture(scope="session")
def _session_zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    with Zygote(tmp_path_factory.mktemp("zygote") / "zygote.log") as forks:
        yield forks


@pytest.fixture
def shared_zygote(_session_zygote: Zygote) -> Iterator[Zygote]:
    """One fork server for the whole session, for tests that each start (and may kill) their
    own servers: the servers a test started are stopped when it ends, as with ``zygote``."""
    started = len(_session_zygote.children)
    yield _session_zygote
    for child in _session_zygote.children[started:]:
        child.stop(timeout=5)
    del _session_zygote.children[started:]


# --- figures: what the load tests measured, shown after the run --------------------------------

FIGURES_KEY = pytest.StashKey[list[str]]()


@pytest.fixture
def report_figures(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Keep a line of measured figures for the run's summary.

    The tests assert behaviour, never wall-clock time; the timings they measure (p95 against the
    RELIABILITY.md targets) are still worth reading, so they are printed at the end of the run
    (captured ``print`` output would only show for a failing test).
    """
    lines = request.config.stash.setdefault(FIGURES_KEY, [])

    def report(line: str) -> None:
        lines.append(f"{request.node.name}: {line}")

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(FIGURES_KEY, [])
    if lines:
        terminalreporter.section("reliability figures (targets are reported, not asserted)")
        for line in lines:
            terminalreporter.write_line(line)
