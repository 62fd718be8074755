"""Submission throughput and latency: the real respondent endpoint beside a bare one, side by side.

For each database (SQLite, PostgreSQL) it builds a campaign with a questionnaire of
``--questions`` questions (default 150) and one invited centre per submission, then serves, with
the same uvicorn settings (one process, httptools, uvloop, access log on), two apps:

``real``  the product: ``POST /r/forms/{form_id}`` with ``action=submit``, form-encoded, as the
          page posts it (session cookie, CSRF token, draft version, 150 answers). It saves the
          draft, validates every answer (types, required, relevance, constraints), stores the
          response and its version row, writes two audit events and answers 303 to the receipt.
``bare``  a Starlette app defined in this file (never part of the product's routes): it parses
          the same form, stores the same answers as JSON in a table of its own, in one
          transaction on an engine made by the same factory (WAL, synchronous=FULL, BEGIN
          IMMEDIATE on SQLite), and answers 303. No session, CSRF, validation or audit.

Every simulated client is its own httpx AsyncClient on loopback and submits as a different
centre. Each concurrency level (1, 8, 32, 64 clients) runs the real endpoint, then the bare one,
on the same number of submissions, after a warm-up. The sessions and drafts are opened ahead
(what ``GET /i/{token}`` and the first form page do), so the figures are the submission alone.
Figures: submissions per second, p50/p95/p99 latency, errors, and the server's CPU time per
submission (from /proc, less sensitive to other load on the machine than wall time).

Targets (issue 8): real >= 0.6 x bare; real >= 100 submissions/s on SQLite.

    .venv/bin/python bench/submission.py [--databases sqlite postgresql] [--clients 1 8 32 64]
        [--per-client 6] [--min-requests 60] [--questions 150] [--profile 8]

``--profile N`` records the real server with py-spy (``pip install py-spy``) during the level
with N clients and prints where the CPU time goes, by function of the project.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert  # noqa: E402

RESULTS = REPO_ROOT / "bench" / "results" / "submission.json"
TARGET_RATIO = 0.6
TARGET_SQLITE_PER_SECOND = 100.0
CONTROL_FIELDS = {"csrf_token", "expected_version", "submission_uuid", "action"}

bare_metadata = MetaData()
bare_submission = Table(
    "bench_bare_submission",
    bare_metadata,
    Column("id", Integer, primary_key=True),
    Column("submission_uuid", String(36), unique=True, nullable=False),
    Column("answers", JSON, nullable=False),
)


# --- the bare endpoint -------------------------------------------------------------------------


def bare_app(env: dict[str, str]) -> Any:
    """The comparison app: parse the form, store the answers as JSON, answer 303. Nothing else."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, RedirectResponse, Response
    from starlette.routing import Route

    from surveys.db import make_engine

    engine = make_engine(env["ACCESSGAP_DATABASE_URL"])

    def store(key: str, answers: dict[str, Any]) -> None:
        with engine.begin() as connection:
            connection.execute(
                insert(bare_submission), {"submission_uuid": key, "answers": answers}
            )

    async def submit(request: Request) -> Response:
        form = await request.form()
        answers: dict[str, Any] = {}
        for name, value in form.multi_items():
            if name in CONTROL_FIELDS or not isinstance(value, str):
                continue
            if name in answers:
                previous = answers[name]
                answers[name] = (
                    [*previous, value] if isinstance(previous, list) else [previous, value]
                )
            else:
                answers[name] = value
        key = str(form.get("submission_uuid", ""))
        await run_in_threadpool(store, key, answers)
        return RedirectResponse(f"/r/receipt/{key}", status_code=303)

    async def ready(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        engine.dispose()

    return Starlette(
        routes=[
            Route("/r/forms/{form_id}", submit, methods=["POST"]),
            Route("/health/ready", ready),
        ],
        lifespan=lifespan,
    )


# --- databases ----------------------------------------------------------------------------------


@contextlib.contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'submission.sqlite3'}"
        return
    from tests.databases import fresh_postgres_database

    with fresh_postgres_database("accessgap_bench") as url:
        yield url


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- one level ----------------------------------------------------------------------------------


def run_level(
    base: str,
    pid: int,
    form_id: str,
    invited: list[Any],
    fields: list[dict[str, Any]],
    clients: int,
) -> dict[str, Any]:
    from bench.loadkit import clients as loadclients

    def job(entry: Any, answers: dict[str, Any]) -> Any:
        async def run(client: Any) -> list[Any]:
            return [await loadclients.submit_opened(client, form_id, entry, answers)]

        return run

    jobs = [job(entry, answers) for entry, answers in zip(invited, fields, strict=True)]
    cpu_before = cpu_seconds(pid)
    outcomes, seconds = asyncio.run(
        loadclients.run_clients(base, clients, jobs, deadline_seconds=600)
    )
    cpu = cpu_seconds(pid) - cpu_before
    figures = loadclients.figures(outcomes, seconds).as_dict()
    figures["missing"] = len(jobs) - len(outcomes)
    figures["server_cpu_ms_per_request"] = round(1000 * cpu / max(len(outcomes), 1), 1)
    return figures


def profile_start(pid: int, out: Path) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("  (py-spy is not installed: pip install py-spy; no profile)")
        return None
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--rate",
            "250",
            "--gil",
            "--nonblocking",
            "--format",
            "raw",
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def profile_summary(path: Path, top: int = 25) -> list[tuple[str, float]]:
    """Share of the sampled CPU time spent in (below) each project function."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        total += int(count)
        seen = set()
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            path_part = where.split(":")[0]
            if path_part.startswith(("api/", "web/", "surveys/", "mapping/")):
                seen.add(f"{name} ({path_part})")
            elif "sqlalchemy/engine/default.py" in path_part and name.endswith(
                ("do_execute", "do_commit")
            ):
                seen.add(f"{name} (sqlalchemy)")
        for name in seen:
            inclusive[name] += int(count)
    return (
        [(name, round(100 * n / total, 1)) for name, n in inclusive.most_common(top)]
        if total
        else []
    )


# --- one database -------------------------------------------------------------------------------


def bench_database(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from bench.loadkit.servers import Zygote, server_env
    from bench.loadkit.world import build_world, form_fields, question_kinds
    from surveys.db import make_engine

    counts = {c: max(args.min_requests, args.per_client * c) for c in args.clients}
    warmup = 20
    with database(kind, folder) as url:
        started = time.perf_counter()
        world = build_world(
            url,
            centres=warmup + sum(counts.values()),
            questions=args.questions,
            open_sessions=True,
        )
        engine = make_engine(url)
        bare_metadata.create_all(engine)
        engine.dispose()
        print(
            f"[{kind}] {len(world.invited)} centres ready in {time.perf_counter() - started:.1f} s"
        )
        rng = random.Random(5)  # noqa: S311 - reproducible answers, not a secret
        kinds = question_kinds(args.questions)
        env = server_env(url, folder)
        levels: list[dict[str, Any]] = []
        profile: list[tuple[str, float]] = []
        with Zygote(folder / f"zygote-{kind}.log") as zygote:
            real = zygote.spawn(env, folder / f"real-{kind}.log")
            bare = zygote.spawn(env, folder / f"bare-{kind}.log", app="bench.submission:bare_app")
            warm = world.take(warmup)
            warm_fields = [form_fields(rng, kinds) for _ in warm]
            for server in (real, bare):  # the bare app keeps its own table: same UUIDs are fine
                run_level(server.base, server.pid, world.form_id, warm, warm_fields, 4)
            for clients in args.clients:
                invited = world.take(counts[clients])
                fields = [form_fields(rng, kinds) for _ in invited]
                spy = (
                    profile_start(real.pid, folder / f"profile-{kind}.txt")
                    if args.profile == clients
                    else None
                )
                real_figures = run_level(
                    real.base, real.pid, world.form_id, invited, fields, clients
                )
                if spy is not None:
                    spy.send_signal(2)
                    spy.wait(timeout=60)
                    profile = profile_summary(folder / f"profile-{kind}.txt")
                bare_figures = run_level(
                    bare.base, bare.pid, world.form_id, invited, fields, clients
                )
                ratio = (
                    round(real_figures["per_second"] / bare_figures["per_second"], 2)
                    if bare_figures["per_second"]
                    else None
                )
                level = {
                    "clients": clients,
                    "requests": counts[clients],
                    "real": real_figures,
                    "bare": bare_figures,
                    "ratio": ratio,
                    "load_average": load_average(),
                }
                levels.append(level)
                print(
                    f"[{kind}] {clients:>2} clients: real {real_figures['per_second']:6.1f}/s "
                    f"p95 {real_figures['p95_ms']} ms ({real_figures['errors']} errors) | bare "
                    f"{bare_figures['per_second']:6.1f}/s p95 {bare_figures['p95_ms']} ms "
                    f"({bare_figures['errors']} errors) | ratio {ratio} | load {load_average()}"
                )
            real_log, bare_log = real.log_text(), bare.log_text()
        locked = real_log.count("database is locked") + bare_log.count("database is locked")
    return {"database": kind, "levels": levels, "locked_in_logs": locked, "profile": profile}


def verdict(results: list[dict[str, Any]]) -> dict[str, Any]:
    ratios = [lvl["ratio"] for r in results for lvl in r["levels"] if lvl["ratio"] is not None]
    sqlite = [r for r in results if r["database"] == "sqlite"]
    best_sqlite = max(
        (lvl["real"]["per_second"] for r in sqlite for lvl in r["levels"]), default=None
    )
    errors = sum(
        lvl["real"]["errors"] + lvl["bare"]["errors"] for r in results for lvl in r["levels"]
    )
    return {
        "min_ratio": min(ratios) if ratios else None,
        "ratio_met": bool(ratios) and min(ratios) >= TARGET_RATIO,
        "best_sqlite_per_second": best_sqlite,
        "sqlite_throughput_met": best_sqlite is not None
        and best_sqlite >= TARGET_SQLITE_PER_SECOND,
        "errors": errors,
    }


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print(
        "| db | clients | real/s | bare/s | ratio | real p50/p95/p99 ms | bare p50/p95/p99 ms "
        "| errors real/bare | CPU ms/req real/bare |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        for lvl in result["levels"]:
            real, bare = lvl["real"], lvl["bare"]
            print(
                f"| {result['database']} | {lvl['clients']} | {real['per_second']} | "
                f"{bare['per_second']} | {lvl['ratio']} | {real['p50_ms']}/{real['p95_ms']}/"
                f"{real['p99_ms']} | {bare['p50_ms']}/{bare['p95_ms']}/{bare['p99_ms']} | "
                f"{real['errors']}/{bare['errors']} | {real['server_cpu_ms_per_request']}/"
                f"{bare['server_cpu_ms_per_request']} |"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--clients", nargs="+", type=int, default=[1, 8, 32, 64])
    parser.add_argument("--per-client", type=int, default=6)
    parser.add_argument("--min-requests", type=int, default=60)
    parser.add_argument("--questions", type=int, default=150)
    parser.add_argument("--profile", type=int, default=None, metavar="CLIENTS")
    args = parser.parse_args()

    load_before = load_average()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-submission-") as tmp:
        for kind in args.databases:
            results.append(bench_database(kind, args, Path(tmp)))
    summary = {
        "benchmark": "submission",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "questions": args.questions,
        "targets": {"ratio": TARGET_RATIO, "sqlite_per_second": TARGET_SQLITE_PER_SECOND},
        "results": results,
        "verdict": verdict(results),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print_table(results)
    for result in results:
        if result["profile"]:
            print(f"\nprofile of the real endpoint on {result['database']} (share of CPU samples):")
            for name, share in result["profile"]:
                print(f"  {share:5.1f}%  {name}")
    v = summary["verdict"]
    print(
        f"\nratio real/bare: min {v['min_ratio']} (target >= {TARGET_RATIO}: "
        f"{'met' if v['ratio_met'] else 'NOT met'}); SQLite best {v['best_sqlite_per_second']}/s "
        f"(target >= {TARGET_SQLITE_PER_SECOND:.0f}: "
        f"{'met' if v['sqlite_throughput_met'] else 'NOT met'}); errors {v['errors']}; "
        f"load average {load_before} -> {load_average()}"
    )
    return 0 if v["ratio_met"] and v["sqlite_throughput_met"] and not v["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
