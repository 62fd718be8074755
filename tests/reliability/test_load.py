"""Load scenarios of RELIABILITY.md section D against real servers, on SQLite and PostgreSQL.

* Scenario 23, the burst: 50 concurrent clients post 200 finalizes, each for a different centre
  whose session and draft (with its submission UUID) were opened beforehand, so the burst is of
  finalizes alone; against one uvicorn process, and against two gunicorn workers as ``make
  serve-prod`` runs them.
* Scenario 24, the mixed load: respondents autosave, domain leads refresh the indicator JSON
  and GeoJSON, centres submit and a coordinator exports the CSV, which must each time be one
  consistent snapshot.

Each test asserts behaviour (nothing lost, nothing duplicated, no error, a sound database); the
timings it measures are printed in the run's summary next to their targets, never asserted.
The burst runs at the scenario's full size in ``make test`` (50 clients, 200 finalizes), and
its deadline is only a bound for a stuck run: on two busy xdist workers a burst is slower,
not wrong.
The mixed load runs ``ACCESSGAP_LOAD_SECONDS`` (30 by default, 300 with ``ACCESSGAP_SOAK=1``);
``bench/soak.py`` (``make soak``) runs the same drivers at full length.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.loadkit import scenarios
from bench.loadkit.checks import ledger, sqlite_health, sqlite_path
from bench.loadkit.clients import Figures, figures
from bench.loadkit.servers import Served, Zygote, server_env, start_gunicorn
from bench.loadkit.world import World, add_submitted, build_world

BURST_CLIENTS = 50
BURST_SUBMISSIONS = 200
# Bounds, not expectations: a burst that takes this long has failed anyway.
BURST_DEADLINE_SECONDS = 300.0
# RELIABILITY.md targets, reported beside the measured figures.
SUBMIT_P95_MS, SUBMIT_P99_MS = 1000.0, 2000.0
AUTOSAVE_P95_MS, DASHBOARD_P95_MS = 1000.0, 500.0
LOCKED = "database is locked"


def mixed_seconds() -> float:
    """How long the mixed load runs: bounded in ``make test``, five minutes in the soak."""
    default = 300.0 if os.environ.get("ACCESSGAP_SOAK") == "1" else 30.0
    return float(os.environ.get("ACCESSGAP_LOAD_SECONDS", default))


def database_name(url: str) -> str:
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"


def verdict(measured: float | None, target: float) -> str:
    if measured is None:
        return "no data"
    return "met" if measured < target else "NOT met"


def assert_sound(url: str, *server_logs: Served) -> None:
    """No request waited out SQLite's lock, and the SQLite file is intact."""
    for served in server_logs:
        text = served.log_text()
        assert text.count(LOCKED) == 0, f"{text.count(LOCKED)} x {LOCKED!r} in {served.log}"
        assert "Traceback" not in text, text[text.index("Traceback") :][:3000]
    if database_name(url) == "sqlite":
        integrity, foreign = sqlite_health(sqlite_path(url))
        assert integrity == ["ok"]
        assert foreign == []


def describe(label: str, numbers: Figures) -> str:
    return (
        f"{label} {numbers.count} in {numbers.seconds:.1f} s ({numbers.per_second}/s), "
        f"{numbers.errors} errors, p50/p95/p99 {numbers.p50_ms}/{numbers.p95_ms}/"
        f"{numbers.p99_ms} ms"
    )


def check_burst(
    url: str, world: World, result: scenarios.BurstResult, report: Callable[[str], None]
) -> None:
    """Scenario 23's promise: exactly the 200 sent submissions are stored, once each."""
    submits = figures(result.submits, result.seconds)
    opens = figures([o for o in result.outcomes if o.kind == "open"], result.seconds)
    report(
        describe("submit", submits)
        + f"; p95 < {SUBMIT_P95_MS:.0f} ms {verdict(submits.p95_ms, SUBMIT_P95_MS)}, "
        f"p99 < {SUBMIT_P99_MS:.0f} ms {verdict(submits.p99_ms, SUBMIT_P99_MS)}"
    )
    if opens.count:
        report(describe("open (invitation + form page)", opens))
    stored = ledger(url, world.slug)
    report(f"stored {len(stored.submitted)} submitted, {len(stored.duplicates)} duplicated")
    statuses: dict[str, int] = {}
    for outcome in result.failures:
        statuses[str(outcome.status)] = statuses.get(str(outcome.status), 0) + 1
    assert result.failures == [], (
        f"{len(result.failures)} failed requests by status {statuses}: "
        f"{submits.error_samples or opens.error_samples}"
    )
    assert len(result.sent) == BURST_SUBMISSIONS
    assert len(stored.submitted) == BURST_SUBMISSIONS
    assert stored.duplicates == []
    assert set(stored.submitted) == result.sent
    assert sorted(result.acknowledged) == sorted(result.sent)
    assert stored.half_written == []


def run_burst(base: str, world: World) -> scenarios.BurstResult:
    return asyncio.run(
        scenarios.burst(
            base,
            world,
            clients_count=BURST_CLIENTS,
            submissions=BURST_SUBMISSIONS,
            deadline=BURST_DEADLINE_SECONDS,
        )
    )


def test_burst_of_finalizes_against_one_server_loses_and_duplicates_nothing(
    server_database: str,
    shared_zygote: Zygote,
    tmp_path: Path,
    report_figures: Callable[[str], None],
) -> None:
    """Scenario 23: 50 clients, 200 finalizes, one uvicorn process."""
    world = build_world(server_database, centres=BURST_SUBMISSIONS, open_sessions=True)
    served = shared_zygote.spawn(
        server_env(server_database, tmp_path / "data"), tmp_path / "server.log"
    )

    try:
        result = run_burst(served.base, world)
    finally:
        served.stop()

    check_burst(server_database, world, result, report_figures)
    assert_sound(server_database, served)


def test_burst_of_finalizes_against_two_gunicorn_workers_loses_and_duplicates_nothing(
    server_database: str, tmp_path: Path, report_figures: Callable[[str], None]
) -> None:
    """Scenario 23 against ``make serve-prod``'s server: two workers, each its own pool.

    On SQLite the two processes share the file's single write lock (WAL, ``BEGIN IMMEDIATE``,
    ``busy_timeout``): nothing may fail or wait out the lock.
    """
    world = build_world(server_database, centres=BURST_SUBMISSIONS, open_sessions=True)
    served = start_gunicorn(
        server_env(server_database, tmp_path / "data"), tmp_path / "gunicorn.log", workers=2
    )
    try:
        result = run_burst(served.base, world)
    finally:
        served.stop()

    check_burst(server_database, world, result, report_figures)
    assert_sound(server_database, served)


def test_mixed_load_fails_nothing_and_every_export_is_a_consistent_snapshot(
    server_database: str,
    shared_zygote: Zygote,
    tmp_path: Path,
    report_figures: Callable[[str], None],
) -> None:
    """Scenario 24, bounded: autosaves, dashboards, submissions and exports at once.

    An export is a consistent snapshot when it holds every response acknowledged before it was
    requested, none sent after its first byte, no draft, and its manifest (counted at the
    snapshot's start) agrees with its rows. Exports come every ``seconds / 3`` (at most 60 s, as
    in the scenario), so a bounded run still exports a few times while submissions land.
    """
    seconds = mixed_seconds()
    plan = scenarios.MixedPlan(
        seconds=seconds, export_every=min(60.0, seconds / 3), export_first_at=min(5.0, seconds / 6)
    )
    submitters_count = int(seconds / plan.submit_every) + 5
    opened = plan.respondents + submitters_count
    world = build_world(server_database, centres=opened + 40, open_sessions=opened)
    add_submitted(server_database, world.slug, 40)
    before = ledger(server_database, world.slug)
    autosavers, submitters = world.take(plan.respondents), world.take(submitters_count)
    served = shared_zygote.spawn(
        server_env(server_database, tmp_path / "data"), tmp_path / "server.log"
    )

    try:
        result = asyncio.run(
            scenarios.mixed_load(
                served.base, world, plan, autosavers=autosavers, submitters=submitters
            )
        )
    finally:
        served.stop()

    report_mixed(result, report_figures)
    after = ledger(server_database, world.slug)
    assert scenarios.mixed_load_problems(result, before, after, world.form_id) == []
    assert_sound(server_database, served)


def report_mixed(result: scenarios.MixedResult, report: Callable[[str], None]) -> None:
    autosaves = figures(result.of("autosave"), result.seconds)
    dashboards = figures(result.of("dashboard"), result.seconds)
    report(
        describe("autosave", autosaves)
        + f"; p95 < {AUTOSAVE_P95_MS:.0f} ms {verdict(autosaves.p95_ms, AUTOSAVE_P95_MS)}"
    )
    report(
        describe("dashboard", dashboards)
        + f"; p95 < {DASHBOARD_P95_MS:.0f} ms {verdict(dashboards.p95_ms, DASHBOARD_P95_MS)}"
    )
    report(describe("submit", figures(result.of("submit"), result.seconds)))
    rows = [len(run.keys) for run in result.exports]
    report(describe("export", figures(result.of("export"), result.seconds)) + f"; rows {rows}")
