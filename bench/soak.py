"""The soak (``make soak``): the load scenarios at full length, then the fault tests at full length.

``make test`` runs the scenarios of RELIABILITY.md section D bounded (about 30 s each); what
only shows over time (memory that creeps up, a pool that runs dry, latency that drifts, a WAL
file that never shrinks) needs the full length. For each database (a fresh SQLite file, a fresh
PostgreSQL database), each phase on a new database and a new uvicorn server:

1. **Scenario 24**, mixed realistic load, ``--mixed-minutes`` (5): 20 respondents autosave every
   5 s, 5 domain leads refresh the indicator JSON and GeoJSON every 10 s, a centre submits every
   2 s, and the full CSV is exported every 60 s. Failure ratio 0, every acknowledged submission
   stored once, every export a consistent snapshot (``bench.loadkit.scenarios``); autosave
   p95 < 1000 ms, dashboard p95 < 500 ms.
2. **Scenario 27**, the soak, ``--minutes`` (30): the same mix, about 5 requests a second. RSS
   drift of the server process < 50 MB (``/proc``, from the end of the first window to the
   end), no ``QueuePool limit`` in its log, p95 drift < 20 % between the first and the last 5
   minutes (the first and last sixth of a shorter run; exports left out, a few of them would
   decide a p95), the SQLite WAL file < 64 MiB at the end; and nothing failed.

Each phase first sends one request of each read kind (indicator JSON, GeoJSON, an export)
outside the figures: a fresh process loads geodata on first use, which is start-up, not drift.

Then ``pytest tests/reliability`` with ``ACCESSGAP_SOAK=1``, which sizes the fault tests at full
length (20 kills, a 10,000-response export, ...). The mixed-load test is left out there: step 1
ran the same driver for as long.

Writes ``bench/results/soak.json`` (server logs in ``bench/results/soak/``), prints a table of
targets met or not; exit status 1 when one is missed.

    .venv/bin/python bench/soak.py [--minutes 30] [--mixed-minutes 5]
        [--databases sqlite postgresql] [--no-fault-tests]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.loadkit import clients, scenarios  # noqa: E402
from bench.loadkit.checks import ledger, sqlite_health, sqlite_path  # noqa: E402
from bench.loadkit.clients import Outcome, percentile  # noqa: E402
from bench.loadkit.servers import Served, Zygote, server_env  # noqa: E402
from bench.loadkit.world import World, add_submitted, build_world  # noqa: E402

RESULTS = REPO_ROOT / "bench" / "results" / "soak.json"
LOGS = REPO_ROOT / "bench" / "results" / "soak"
MIXED_TEST = (
    "tests/reliability/test_load.py::"
    "test_mixed_load_fails_nothing_and_every_export_is_a_consistent_snapshot"
)
# RELIABILITY.md targets.
AUTOSAVE_P95_MS, DASHBOARD_P95_MS = 1000.0, 500.0
RSS_DRIFT_MB, P95_DRIFT, WAL_MIB = 50.0, 0.20, 64.0
DRIFT_WINDOW_SECONDS = 300.0
PRESUBMITTED = 40  # responses already in the campaign, so the first export has rows
SAMPLE_EVERY = 5.0  # seconds between RSS and WAL samples
FAULT_TESTS_TIMEOUT = 4 * 3600  # a bound, not an expectation


@dataclass
class Row:
    """One line of the table: a measured figure beside its target."""

    database: str
    scenario: str
    measure: str
    value: str
    target: str
    met: bool | None  # None: reported, no target


@dataclass
class Sample:
    at: float  # seconds since the load began
    rss_bytes: int | None
    wal_bytes: int | None


@dataclass
class Phase:
    database: str
    scenario: str
    seconds: float
    requests: int
    per_second: float
    failures: int
    problems: list[str]
    p95_ms: dict[str, float | None]
    exports: list[dict[str, Any]]
    samples: list[Sample] = field(default_factory=list)
    log: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# --- measuring the server ------------------------------------------------------------------------


def rss_bytes(pid: int) -> int | None:
    """Resident memory of one process, from ``/proc`` (None once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


def wal_bytes(url: str) -> int | None:
    """Size of the SQLite write-ahead log (None on PostgreSQL, 0 when there is none)."""
    if not url.startswith("sqlite"):
        return None
    wal = sqlite_path(url).with_name(sqlite_path(url).name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


async def observe(
    served: Served,
    world: World,
    plan: scenarios.MixedPlan,
    *,
    autosavers: list[Any],
    submitters: list[Any],
) -> tuple[scenarios.MixedResult, list[Sample]]:
    """Run the mixed load while sampling the server's RSS and the WAL size every few seconds.

    The samples are what the drift figures are made of; they stop with the load (and at most
    one per ``SAMPLE_EVERY`` seconds of the plan, so the loop is bounded however it ends).
    """
    samples: list[Sample] = []
    done = asyncio.Event()
    started = time.perf_counter()
    limit = int(plan.seconds / SAMPLE_EVERY) + 3

    def take() -> None:
        samples.append(
            Sample(
                round(time.perf_counter() - started, 1),
                rss_bytes(served.pid),
                wal_bytes(world.url),
            )
        )

    async def sampler() -> None:
        while not done.is_set() and len(samples) < limit:
            take()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), SAMPLE_EVERY)

    task = asyncio.create_task(sampler())
    try:
        result = await scenarios.mixed_load(
            served.base, world, plan, autosavers=autosavers, submitters=submitters
        )
    finally:
        done.set()
        await task
    take()  # the end: the server still runs, so the WAL is as the load left it
    return result, samples


async def warm_up(base: str, world: World) -> list[str]:
    """One request of each read kind before the clock starts (what failed, if anything).

    A fresh process loads its geodata and compiles the form on first use, a few seconds that
    would otherwise fill the first window of a short soak and show as "drift".
    """
    failed = []
    path = f"/api/v1/campaigns/{world.slug}/indicators/{world.indicator}"
    headers = {"Authorization": f"Bearer {world.tokens['domain_lead']}"}
    async with clients.new_client(base, **headers) as client:
        for url in (path, f"{path}/geojson"):
            response = await client.get(url, params={"level": "country"})
            if response.status_code != 200:
                failed.append(f"warm-up {url}: {response.status_code}")
    run = await scenarios.export_once(base, world.tokens["coordinator"], world.slug, world.form_id)
    if run.status != 200 or run.error:
        failed.append(f"warm-up export: {run.status} {run.error}")
    return failed


def p95_of(outcomes: list[Outcome]) -> float | None:
    value = percentile([o.seconds * 1000 for o in outcomes if o.ok], 95)
    return None if value is None else round(value, 1)


# --- one phase -----------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """An empty database of its own for one phase: a SQLite file, or a PostgreSQL database
    dropped afterwards (the test suite's helper, so the soak needs the same server)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'soak.sqlite3'}"
        return
    from tests.databases import fresh_postgres_database

    with fresh_postgres_database("accessgap_soak") as url:
        yield url


def run_phase(kind: str, scenario: str, seconds: float, zygote: Zygote, folder: Path) -> Phase:
    """Build a world, serve it, run the mix for ``seconds``, check it, stop the server."""
    plan = scenarios.MixedPlan(seconds=seconds)
    submitters_count = int(seconds / plan.submit_every) + 10
    opened = plan.respondents + submitters_count
    with fresh_database(kind, folder) as url:
        print(f"[{kind}] scenario {scenario}: {seconds / 60:.1f} min", flush=True)
        world = build_world(url, centres=opened + PRESUBMITTED, open_sessions=opened)
        add_submitted(url, world.slug, PRESUBMITTED)
        before = ledger(url, world.slug)
        autosavers, submitters = world.take(plan.respondents), world.take(submitters_count)
        LOGS.mkdir(parents=True, exist_ok=True)
        log = LOGS / f"{kind}-scenario-{scenario}.log"
        log.unlink(missing_ok=True)
        served = zygote.spawn(server_env(url, folder / "data"), log)
        try:
            cold = asyncio.run(warm_up(served.base, world))
            result, samples = asyncio.run(
                observe(served, world, plan, autosavers=autosavers, submitters=submitters)
            )
        finally:
            served.stop()
        after = ledger(url, world.slug)
        problems = cold + scenarios.mixed_load_problems(result, before, after, world.form_id)
        text = served.log_text()
        if locked := text.count("database is locked"):
            problems.append(f"{locked} x 'database is locked' in the server log")
        if kind == "sqlite":
            integrity, foreign = sqlite_health(sqlite_path(url))
            if integrity != ["ok"] or foreign:
                problems.append(f"SQLite integrity {integrity[:3]}, foreign keys {foreign[:3]}")
    kinds = ("autosave", "dashboard", "submit", "export")
    return Phase(
        database=kind,
        scenario=scenario,
        seconds=round(result.seconds, 1),
        requests=len(result.outcomes),
        per_second=round(len(result.outcomes) / result.seconds, 2) if result.seconds else 0.0,
        failures=len(result.failures),
        problems=problems,
        p95_ms={k: p95_of(result.of(k)) for k in kinds},
        exports=[
            {"rows": len(run.keys), "seconds": round(run.done_at - run.sent_at, 2)}
            for run in result.exports
        ],
        samples=samples,
        log=str(log.relative_to(REPO_ROOT)),
        extra=drift(result, samples, text) if scenario == "27" else {},
    )


def drift(result: scenarios.MixedResult, samples: list[Sample], log: str) -> dict[str, Any]:
    """Scenario 27's figures: what changed between the start and the end of the soak."""
    window = min(DRIFT_WINDOW_SECONDS, result.seconds / 6)
    steady = [o for o in result.outcomes if o.kind != "export"]  # a few exports skew a p95

    def between(start: float, end: float) -> list[Outcome]:
        return [o for o in steady if start <= o.started - result.started < end]

    first = p95_of(between(0, window))
    last = p95_of(between(result.seconds - window, result.seconds + 1))
    rss = [s for s in samples if s.rss_bytes is not None]
    warm = next((s for s in rss if s.at >= window), rss[-1] if rss else None)
    end = rss[-1] if rss else None
    wal = [s.wal_bytes for s in samples if s.wal_bytes is not None]
    mib = 1024 * 1024
    return {
        "window_seconds": round(window, 1),
        "p95_first_ms": first,
        "p95_last_ms": last,
        "p95_drift": round((last - first) / first, 3) if first and last is not None else None,
        "rss_start_mb": round(rss[0].rss_bytes / mib, 1) if rss and rss[0].rss_bytes else None,
        "rss_warm_mb": round(warm.rss_bytes / mib, 1) if warm and warm.rss_bytes else None,
        "rss_end_mb": round(end.rss_bytes / mib, 1) if end and end.rss_bytes else None,
        "rss_max_mb": round(max(s.rss_bytes or 0 for s in rss) / mib, 1) if rss else None,
        "rss_drift_mb": (
            round(((end.rss_bytes or 0) - (warm.rss_bytes or 0)) / mib, 1) if end and warm else None
        ),
        "queuepool_timeouts": log.count("QueuePool limit"),
        "wal_end_mib": round(wal[-1] / mib, 2) if wal else None,
        "wal_max_mib": round(max(wal) / mib, 2) if wal else None,
    }


# --- the fault tests -----------------------------------------------------------------------------


def run_fault_tests() -> dict[str, Any]:
    """``pytest tests/reliability`` at full length (``ACCESSGAP_SOAK=1``), in its own process."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/reliability",
        "-q",
        "-p",
        "no:cacheprovider",
        "--durations=10",
        "--deselect",
        MIXED_TEST,
    ]
    print(f"\n=== ACCESSGAP_SOAK=1 {' '.join(command[2:])}", flush=True)
    started = time.monotonic()
    try:
        code = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, "ACCESSGAP_SOAK": "1"},
            timeout=FAULT_TESTS_TIMEOUT,
            check=False,
        ).returncode
    except subprocess.TimeoutExpired:
        code = -1
    return {"exit_status": code, "seconds": round(time.monotonic() - started, 1)}


# --- the table -----------------------------------------------------------------------------------


def below(value: float | None, target: float) -> bool | None:
    return None if value is None else value < target


def rows_of(phase: Phase) -> list[Row]:
    name, db = f"{phase.scenario}", phase.database
    rows = [
        Row(
            db,
            name,
            f"requests ({phase.per_second}/s over {phase.seconds:.0f} s)",
            f"{phase.failures} failed of {phase.requests}",
            "0 failed",
            phase.failures == 0,
        ),
        Row(
            db,
            name,
            "integrity (lost, duplicated, snapshots, locks)",
            "; ".join(phase.problems)[:300] or "none",
            "no problem",
            not phase.problems,
        ),
        Row(
            db,
            name,
            "export rows (seconds)",
            ", ".join(f"{e['rows']} ({e['seconds']})" for e in phase.exports) or "none",
            "",
            None,
        ),
    ]
    if phase.scenario == "24":
        autosave, dashboard = phase.p95_ms["autosave"], phase.p95_ms["dashboard"]
        rows += [
            Row(
                db,
                name,
                "autosave p95 ms",
                str(autosave),
                f"< {AUTOSAVE_P95_MS:.0f}",
                below(autosave, AUTOSAVE_P95_MS),
            ),
            Row(
                db,
                name,
                "dashboard p95 ms",
                str(dashboard),
                f"< {DASHBOARD_P95_MS:.0f}",
                below(dashboard, DASHBOARD_P95_MS),
            ),
            Row(db, name, "submit p95 ms", str(phase.p95_ms["submit"]), "", None),
        ]
        return rows
    x = phase.extra
    window = f"first/last {x['window_seconds']:.0f} s"
    rss = f"{x['rss_warm_mb']} -> {x['rss_end_mb']} MB (max {x['rss_max_mb']})"
    drift_pct = None if x["p95_drift"] is None else round(100 * x["p95_drift"], 1)
    rows += [
        Row(
            db,
            name,
            "RSS drift MB",
            f"{x['rss_drift_mb']}: {rss}",
            f"< {RSS_DRIFT_MB:.0f}",
            below(x["rss_drift_mb"], RSS_DRIFT_MB),
        ),
        Row(
            db,
            name,
            "'QueuePool limit' in the log",
            str(x["queuepool_timeouts"]),
            "0",
            x["queuepool_timeouts"] == 0,
        ),
        Row(
            db,
            name,
            f"p95 drift % ({window})",
            f"{drift_pct}: {x['p95_first_ms']} -> {x['p95_last_ms']} ms",
            f"< {100 * P95_DRIFT:.0f}",
            below(x["p95_drift"], P95_DRIFT),
        ),
    ]
    if db == "sqlite":
        rows.append(
            Row(
                db,
                name,
                "WAL MiB at the end (max)",
                f"{x['wal_end_mib']} ({x['wal_max_mib']})",
                f"< {WAL_MIB:.0f}",
                below(x["wal_end_mib"], WAL_MIB),
            )
        )
    return rows


def print_table(rows: list[Row]) -> None:
    print("\n| db | scenario | measure | value | target | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        met = {True: "met", False: "NOT met", None: ""}[row.met]
        print(
            f"| {row.database} | {row.scenario} | {row.measure} | {row.value} | {row.target} "
            f"| {met} |"
        )


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="scenario 27's length")
    parser.add_argument("--mixed-minutes", type=float, default=5.0, help="scenario 24's length")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--no-fault-tests", action="store_true", help="skip pytest tests/reliability"
    )
    args = parser.parse_args()

    load_before = load_average()
    phases: list[Phase] = []
    with (
        tempfile.TemporaryDirectory(prefix="soak-") as tmp,
        Zygote(Path(tmp) / "zygote.log") as zygote,
    ):
        for kind in args.databases:
            for scenario, minutes in (("24", args.mixed_minutes), ("27", args.minutes)):
                folder = Path(tmp) / f"{kind}-{scenario}"
                folder.mkdir()
                phases.append(run_phase(kind, scenario, minutes * 60, zygote, folder))
    rows = [row for phase in phases for row in rows_of(phase)]
    faults = None if args.no_fault_tests else run_fault_tests()
    if faults is not None:
        rows.append(
            Row(
                "both",
                "C, D",
                "fault tests (pytest tests/reliability, ACCESSGAP_SOAK=1)",
                f"exit {faults['exit_status']} after {faults['seconds']:.0f} s",
                "exit 0",
                faults["exit_status"] == 0,
            )
        )
    met = all(row.met is not False for row in rows)
    summary = {
        "benchmark": "soak",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "arguments": vars(args),
        "targets": {
            "autosave_p95_ms": AUTOSAVE_P95_MS,
            "dashboard_p95_ms": DASHBOARD_P95_MS,
            "rss_drift_mb": RSS_DRIFT_MB,
            "p95_drift": P95_DRIFT,
            "wal_mib": WAL_MIB,
        },
        "phases": [asdict(phase) for phase in phases],
        "fault_tests": faults,
        "rows": [asdict(row) for row in rows],
        "met": met,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print_table(rows)
    print(
        f"\n{'every target met' if met else 'a target is NOT met'}; load average "
        f"{load_before} -> {load_average()}; figures in {RESULTS.relative_to(REPO_ROOT)}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
