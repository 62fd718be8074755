"""Fixtures of the load and fault tests (RELIABILITY.md sections C and D), bounded for ``make
test``; ``make soak`` runs the same drivers at full length (``bench/soak.py``).

These tests start real servers (forked uvicorn, or gunicorn with two workers) on loopback
against an empty database of their own: a SQLite file in a temporary folder, or a fresh
PostgreSQL database dropped at the end. Nothing here shares a database with the other tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.loadkit.servers import Zygote
from tests.databases import fresh_postgres_database
from tests.forks import app_forks

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
def shared_zygote() -> Iterator[Zygote]:
    """The fork server of this test process (``tests/forks.py``), which has imported the app:
    each uvicorn server starts in a fraction of a second, so a crash test can restart twenty
    times. The servers a test started are stopped when it ends."""
    forks = app_forks()
    started = len(forks.children)
    yield forks
    for child in forks.children[started:]:
        child.stop(timeout=5)
    del forks.children[started:]


@pytest.fixture
def zygote(shared_zygote: Zygote) -> Zygote:
    """The same fork server, under the name some tests use: a test never needs one of its own
    (a forked server takes its settings from the spawn request, not from the fork server)."""
    return shared_zygote
