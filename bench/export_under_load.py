"""Scenario 26: the full CSV export of 10,000 responses x 150 questions, streamed by a real
server while respondents autosave, beside the same autosaves with no export running.

For each database it fills a campaign (``bench.loadkit.world``: 10,000 submitted responses in
bulk, plus centres whose drafts the respondents keep saving), forks one uvicorn server and runs:

``baseline``  ``--clients`` respondents autosave every ``--interval`` seconds for ``--seconds``;
``export``    the same autosaves while one coordinator downloads the identified CSV package
              (``/api/v1/exports/csv/identified``), from the first byte to the manifest.

Figures: the export's duration, the server's resident memory growth during it (``VmRSS`` from
/proc, sampled every 50 ms, peak minus before), and the autosave p95 during the export beside
the baseline's. Targets (RELIABILITY.md 26): export < 15 s, RSS growth < 200 MB, autosave p95
during the export < 1,500 ms. Writes ``bench/results/export_under_load.json``; exit status 1 on
a miss.

    .venv/bin/python bench/export_under_load.py [--databases sqlite postgresql]
        [--responses 10000] [--clients 10] [--interval 0.5] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

RESULTS = REPO_ROOT / "bench" / "results" / "export_under_load.json"
TARGETS = {"export_seconds": 15.0, "rss_growth_mb": 200.0, "autosave_p95_ms": 1500.0}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def autosaves(
    base: str, form_id: str, invited: list[Any], interval: float, until: asyncio.Event
) -> list[Any]:
    """Each respondent saves its draft every ``interval`` seconds until ``until`` is set."""
    from bench.loadkit import clients
    from bench.loadkit.world import form_fields, question_kinds

    rng = random.Random(26)  # noqa: S311 - reproducible answers, not a secret
    kinds = question_kinds(150)

    async def respondent(entry: Any) -> list[Any]:
        done: list[Any] = []
        async with clients.new_client(base) as client:
            await asyncio.sleep(rng.uniform(0, interval))
            while not until.is_set():
                done.append(await clients.autosave(client, form_id, entry, form_fields(rng, kinds)))
                await asyncio.sleep(interval)
        return done

    batches = await asyncio.gather(*(respondent(entry) for entry in invited))
    return [outcome for batch in batches for outcome in batch]


async def baseline(
    base: str, world: Any, invited: list[Any], seconds: float, interval: float
) -> Any:
    stop = asyncio.Event()
    task = asyncio.create_task(autosaves(base, world.form_id, invited, interval, stop))
    await asyncio.sleep(seconds)
    stop.set()
    return await task


async def during_export(
    base: str, world: Any, invited: list[Any], pid: int, args: argparse.Namespace
) -> tuple[Any, list[Any], float, float]:
    from bench.loadkit.scenarios import export_once

    stop = asyncio.Event()
    saves = asyncio.create_task(autosaves(base, world.form_id, invited, args.interval, stop))
    await asyncio.sleep(args.interval * 2)  # the autosaves are running when the export starts
    before = peak = rss_mb(pid)
    export = asyncio.create_task(
        export_once(base, world.tokens["coordinator"], world.slug, world.form_id)
    )
    while not export.done():
        peak = max(peak, rss_mb(pid))
        await asyncio.sleep(0.05)
    stop.set()
    run = export.result()
    outcomes = [o for o in await saves if run.sent_at <= o.started <= run.done_at]
    return run, outcomes, before, peak


def bench_database(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from bench.loadkit import clients
    from bench.loadkit.servers import Zygote, server_env
    from bench.loadkit.world import add_submitted, build_world
    from bench.submission import database

    with database(kind, folder) as url:
        started = time.perf_counter()
        world = build_world(
            url, centres=args.clients + args.responses, questions=150, open_sessions=args.clients
        )
        total = add_submitted(url, world.slug, args.responses)
        print(
            f"[{kind}] {total} submitted responses ready in {time.perf_counter() - started:.0f} s"
        )
        with Zygote(folder / f"zygote-{kind}.log") as zygote:
            server = zygote.spawn(server_env(url, folder), folder / f"server-{kind}.log")
            invited = world.take(args.clients)
            # A fresh process is slow over its first requests (lazy imports, first queries).
            asyncio.run(baseline(server.base, world, invited, 2.0, args.interval))
            base = asyncio.run(baseline(server.base, world, invited, args.seconds, args.interval))
            run, during, before, peak = asyncio.run(
                during_export(server.base, world, invited, server.pid, args)
            )
    rows = len(run.keys) if run.status == 200 else None
    quiet = clients.figures(base, args.seconds).as_dict()
    busy = clients.figures(during, max(run.done_at - run.sent_at, 1e-9)).as_dict()
    result = {
        "database": kind,
        "responses": total,
        "export_status": run.status,
        "export_error": run.error,
        "export_rows": rows,
        "export_seconds": round(run.done_at - run.sent_at, 2),
        "rss_before_mb": round(before, 1),
        "rss_growth_mb": round(peak - before, 1),
        "autosave_baseline": quiet,
        "autosave_during_export": busy,
    }
    print(
        f"[{kind}] export {result['export_seconds']} s ({rows} rows, status {run.status}), "
        f"RSS +{result['rss_growth_mb']} MB; autosave p95 {busy['p95_ms']} ms during it "
        f"({busy['count']} saves, {busy['errors']} errors) vs {quiet['p95_ms']} ms without"
    )
    return result


def met(result: dict[str, Any]) -> bool:
    during = result["autosave_during_export"]
    return (
        result["export_status"] == 200
        and result["export_rows"] == result["responses"]
        and result["export_seconds"] < TARGETS["export_seconds"]
        and result["rss_growth_mb"] < TARGETS["rss_growth_mb"]
        and during["p95_ms"] is not None
        and during["p95_ms"] < TARGETS["autosave_p95_ms"]
        and not during["errors"]
        and not result["autosave_baseline"]["errors"]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-load-") as tmp:
        results = [bench_database(kind, args, Path(tmp)) for kind in args.databases]
    summary = {
        "benchmark": "export_under_load",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "targets": TARGETS,
        "results": [{**r, "met": met(r)} for r in results],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if all(r["met"] for r in summary["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
