"""Scenario 20 (RELIABILITY.md section C): the backup and restore drill, under load.

A server takes about ten finalizes a second while ``accessgap db backup`` runs against the same
database. The backup must freeze one committed state: restored into an empty database, every
table has the row count and SHA-256 the manifest recorded, every response in it is whole, it
holds every finalize acknowledged before the backup began and none that began after it ended.
A restore with the wrong passphrase exits non-zero and leaves the target as it was.

The load starts before the backup and goes on until a second after it ended, however long a
loaded machine makes the backup take (centres are ready for up to 40 s of load); the waits are
bounds for a stuck run, not expectations.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from bench.loadkit import checks, clients
from bench.loadkit.servers import Zygote, server_env
from bench.loadkit.world import (
    Invited,
    World,
    add_submitted,
    build_world,
    form_fields,
    question_kinds,
)
from surveys import backup
from surveys.db import is_sqlite
from tests.databases import fresh_postgres_database
from tests.reliability.conftest import soak_sized

PASSPHRASE = "drill passphrase, kept in a vault"
WRITES_PER_SECOND = 10


@dataclass
class SteadyLoad:
    """Finalizes sent at a steady rate, each with when it was sent and when acknowledged."""

    sent: list[tuple[float, str]] = field(default_factory=list)
    acknowledged: list[tuple[float, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def _submit_steadily(
    base: str, world: World, entries: list[Invited], stop: threading.Event, load: SteadyLoad
) -> None:
    kinds = question_kinds(world.questions)
    tasks = []
    async with clients.new_client(base) as client:

        async def submit(entry: Invited) -> None:
            assert entry.submission_uuid is not None
            load.sent.append((time.monotonic(), entry.submission_uuid))
            fields = form_fields(random.Random(entry.centre_id), kinds)  # noqa: S311 - test data
            outcome = await clients.submit_opened(client, world.form_id, entry, fields)
            if outcome.ok:
                load.acknowledged.append((time.monotonic(), entry.submission_uuid))
            else:
                load.failures.append(f"{outcome.status} {outcome.detail[:200]}")

        for entry in entries:
            if stop.is_set():
                break
            tasks.append(asyncio.create_task(submit(entry)))
            await asyncio.sleep(1 / WRITES_PER_SECOND)
        await asyncio.gather(*tasks)


@contextmanager
def steady_load(base: str, world: World, entries: list[Invited]) -> Iterator[SteadyLoad]:
    """About ten finalizes a second in a background thread, for as long as the block runs."""
    load, stop = SteadyLoad(), threading.Event()
    thread = threading.Thread(
        target=lambda: asyncio.run(_submit_steadily(base, world, entries, stop, load)),
        daemon=True,
    )
    thread.start()
    try:
        yield load
    finally:
        stop.set()
        thread.join(timeout=120)
    assert not thread.is_alive()


@contextmanager
def empty_target(url: str, folder: Path) -> Iterator[str]:
    """An empty database of the same kind as ``url`` to restore into."""
    if is_sqlite(url):
        yield f"sqlite:///{folder / 'restored.sqlite3'}"
        return
    with fresh_postgres_database("accessgap_restored") as target:
        yield target


def accessgap(*args: str) -> tuple[int, str]:
    """The command line, as an operator runs the drill."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def restore(file: Path, into: str, passphrase_env: str) -> tuple[int, str]:
    return accessgap("db", "restore", str(file), "--into", into, "--passphrase-env", passphrase_env)


def test_backup_under_load_restores_exactly_its_snapshot(
    server_database: str,
    shared_zygote: Zygote,
    report_figures: Callable[[str], None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = soak_sized(300, 10_000)
    # Centres ready to finalize for this many seconds of load: the load has to outlast the
    # backup however slow a loaded machine makes it, and stops a second after the backup ends.
    load_window = soak_sized(40, 120)
    world = build_world(
        server_database,
        centres=stored + WRITES_PER_SECOND * load_window,
        open_sessions=WRITES_PER_SECOND * load_window,
    )
    writers = world.take(WRITES_PER_SECOND * load_window)
    add_submitted(server_database, world.slug, stored)
    server = shared_zygote.spawn(
        server_env(server_database, tmp_path / "data"), tmp_path / "server.log"
    )
    file = tmp_path / "accessgap.backup"
    monkeypatch.setenv("ACCESSGAP_DATABASE_URL", server_database)
    monkeypatch.setenv("DRILL_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("WRONG_PASSPHRASE", "not the drill passphrase")

    with steady_load(server.base, world, writers) as load:
        # The backup starts once the load runs (a second of acknowledged finalizes), and the
        # load goes on until a finalize has been sent a second after the backup ended.
        started = time.monotonic()
        while len(load.acknowledged) < WRITES_PER_SECOND and time.monotonic() < started + 120:
            time.sleep(0.05)
        began = time.monotonic()
        code, out = accessgap(
            "db", "backup", "--out", str(file), "--passphrase-env", "DRILL_PASSPHRASE"
        )
        ended = time.monotonic()
        while time.monotonic() < ended + 120 and not (load.sent and load.sent[-1][0] > ended + 1):
            time.sleep(0.05)
    server.stop()
    assert code == 0, out
    manifest = backup.read_manifest(file, PASSPHRASE)

    acknowledged_before = {key for at, key in load.acknowledged if at < began}
    sent_after = {key for at, key in load.sent if at > ended}
    assert load.failures == []
    assert acknowledged_before, "the load had not started when the backup began"
    assert sent_after, "the load stopped before the backup ended"

    with empty_target(server_database, tmp_path) as target:
        code, out = restore(file, target, "WRONG_PASSPHRASE")
        assert code == 100, out
        if is_sqlite(target):
            assert not checks.sqlite_path(target).exists()
        else:
            assert checks.digests_of(target) == {}

        started = time.perf_counter()
        code, out = restore(file, target, "DRILL_PASSPHRASE")
        restore_seconds = time.perf_counter() - started
        assert code == 0, out

        assert checks.digests_of(target) == manifest.tables
        restored = checks.ledger(target, world.slug)
        if is_sqlite(target):
            assert checks.sqlite_health(checks.sqlite_path(target)) == (["ok"], [])

    keys = set(restored.submitted)
    assert restored.half_written == []
    assert restored.duplicates == []
    assert acknowledged_before <= keys
    assert not keys & sent_after
    assert len(keys) == manifest.tables["response_version"].rows
    report_figures(
        f"scenario 20: backup of "
        f"{len(keys)} submitted responses ({manifest.total_rows} rows) in {ended - began:.1f} s "
        f"under {len(load.acknowledged)} finalizes, restored and verified in "
        f"{restore_seconds:.1f} s"
    )
