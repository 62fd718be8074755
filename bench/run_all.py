"""Run every benchmark in ``bench/`` and print one table of their figures, side by side.

Each script measures its subject beside a baseline in the same run and writes
``bench/results/<script>.json``; this runner starts them one after the other (small, fast
parameters for the slow ones), then reads those files and prints one table: what we measured,
the baseline, their ratio, the target and whether it is met. It also records how loaded the
machine was, because wall-clock figures on a shared 2-core box move with its load. The table
goes to ``bench/results/run_all.json`` too. A script added to ``bench/`` later is run as well
(with its own defaults) and listed with its exit status.

    .venv/bin/python bench/run_all.py [--only submission map_render] [--quick]

Exit status 1 when a script fails or a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
NOT_BENCHMARKS = {"run_all.py", "soak.py"}
# Parameters that keep ``make bench`` to a few minutes; the scripts' own defaults are the full
# measurements (see bench/README.md).
FAST_ARGS: dict[str, list[str]] = {
    "submission.py": [],
    "export_stream.py": ["--responses", "2000", "--questions", "150", "--insert", "bulk"],
    "map_render.py": ["--repeat", "3"],
    "startup.py": ["--repeat", "3"],
    "map_page.py": ["--repeat", "7"],
}
QUICK_ARGS: dict[str, list[str]] = {
    "submission.py": ["--clients", "1", "8", "--min-requests", "40"],
    "export_stream.py": ["--responses", "500", "--questions", "150", "--insert", "bulk"],
    "map_render.py": ["--repeat", "1"],
    "export_under_load.py": ["--responses", "1000", "--seconds", "4"],
    "startup.py": ["--repeat", "1"],
    "map_page.py": ["--repeat", "3", "--centres", "120"],
}
Row = dict[str, Any]


def scripts(only: list[str] | None) -> list[Path]:
    found = sorted(
        path
        for path in BENCH.glob("*.py")
        if path.name not in NOT_BENCHMARKS and "__main__" in path.read_text(encoding="utf-8")
    )
    if only:
        found = [p for p in found if p.stem in only or p.name in only]
    return found


def run(script: Path, args: list[str]) -> tuple[int, float]:
    print(f"\n=== {script.name} {' '.join(args)}", flush=True)
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, str(script), *args], check=False, timeout=3600)
    return completed.returncode, time.perf_counter() - started


# --- one summariser per benchmark: its results file as rows of the table ------------------------


def _submission(data: dict[str, Any]) -> list[Row]:
    rows = []
    target = data["targets"]
    for result in data["results"]:
        for level in result["levels"]:
            real, bare = level["real"], level["bare"]
            ok = level["ratio"] is not None and level["ratio"] >= target["ratio"]
            note = f">= {target['ratio']} x bare"
            if result["database"] == "sqlite":
                ok = ok and real["per_second"] >= target["sqlite_per_second"]
                note += f", >= {target['sqlite_per_second']:.0f}/s"
            errors = real["errors"] + bare["errors"]
            rows.append(
                {
                    "benchmark": "submission",
                    "case": f"{result['database']}, {level['clients']} clients",
                    "ours": f"{real['per_second']}/s, p95 {real['p95_ms']} ms",
                    "baseline": f"bare {bare['per_second']}/s, p95 {bare['p95_ms']} ms",
                    "ratio": level["ratio"],
                    "target": note + ("" if not errors else f"; {errors} errors"),
                    "met": ok and not errors,
                }
            )
    return rows


def _export(data: dict[str, Any]) -> list[Row]:
    seconds, growth = data["seconds"], data["growth_mb"]
    target = data["targets"]
    case = f"{data['responses']} x {data['questions']}, {data['database']}"
    return [
        {
            "benchmark": "export",
            "case": f"{case}, {mode}",
            "ours": f"{seconds[mode]:.2f} s, +{growth[mode]} MB",
            "baseline": f"pandas {seconds['pandas']:.2f} s, +{growth['pandas']} MB",
            "ratio": round(seconds[mode] / seconds["pandas"], 2),
            "target": (
                f"<= {target['ratio']} x pandas, < {target['growth_mb']} MB"
                if mode == "ours-csv"
                else f"< {target['growth_mb']} MB (time not judged)"
            ),
            "met": growth[mode] < target["growth_mb"]
            and (mode != "ours-csv" or seconds[mode] / seconds["pandas"] <= target["ratio"]),
        }
        for mode in ("ours-csv", "ours-csv-long")
    ]


def _export_under_load(data: dict[str, Any]) -> list[Row]:
    target = data["targets"]
    return [
        {
            "benchmark": "export+load",
            "case": f"{r['responses']} x 150 CSV during autosaves, {r['database']}",
            "ours": f"{r['export_seconds']:.1f} s, +{r['rss_growth_mb']} MB, autosave p95 "
            f"{r['autosave_during_export']['p95_ms']} ms",
            "baseline": f"autosave p95 {r['autosave_baseline']['p95_ms']} ms, no export",
            "ratio": round(
                r["autosave_during_export"]["p95_ms"] / r["autosave_baseline"]["p95_ms"], 2
            )
            if r["autosave_during_export"]["p95_ms"] and r["autosave_baseline"]["p95_ms"]
            else None,
            "target": f"< {target['export_seconds']:.0f} s, < {target['rss_growth_mb']:.0f} MB, "
            f"p95 < {target['autosave_p95_ms']:.0f} ms",
            "met": r["met"],
        }
        for r in data["results"]
    ]


def _map(data: dict[str, Any]) -> list[Row]:
    rows = []
    for m in data["results"]:
        judged = m["layer"].startswith("NUTS-2") and m["tolerance_m"] == 5000
        rows.append(
            {
                "benchmark": "map",
                "case": f"{m['layer']}, {m['tolerance_m'] / 1000:g} km",
                "ours": f"{m['ours_bytes'] / 1000:.1f} kB, {m['ours_ms']:.0f} ms",
                "baseline": f"folium {m['naive_bytes'] / 1000:.1f} kB, {m['naive_ms']:.0f} ms",
                "ratio": round(m["size_ratio"], 2),
                "target": "<= 1.5 MB and <= 0.30 x naive" if judged else "(not judged)",
                "met": (m["ours_bytes"] <= 1_500_000 and m["size_ratio"] <= 0.30)
                if judged
                else None,
            }
        )
    return rows


def _startup(data: dict[str, Any]) -> list[Row]:
    base = data["baseline_seconds"]
    return [
        {
            "benchmark": "start-up",
            "case": {
                "help": "accessgap --help",
                "users_create": "accessgap users create",
                "server_ready": "server ready (/health/ready)",
            }[r["what"]],
            "ours": f"{r['seconds']:.2f} s (CPU {r['cpu_seconds']:.2f} s)",
            "baseline": f"python -c pass {base:.2f} s",
            "ratio": r["ratio"],
            "target": f"<= {r['target_seconds']:g} s",
            "met": r["met"],
        }
        for r in data["results"]
    ]


def _map_page(data: dict[str, Any]) -> list[Row]:
    target = data["targets"]
    rows: list[Row] = []
    for level, m in data["levels"].items():
        name = "NUTS-2" if level == "nuts2" else "country"
        rows.append(
            {
                "benchmark": "map page",
                "case": f"{name}, warm / after a data change",
                "ours": f"{m['warm_ms']:.0f} / {m['changed_ms']:.0f} ms (CPU "
                f"{m['cpu_ms']['warm']:.0f} / {m['cpu_ms']['changed']:.0f} ms)",
                "baseline": f"first view {m['cold_ms']:.0f} ms",
                "ratio": round(m["warm_ms"] / m["cold_ms"], 2) if m["cold_ms"] else None,
                "target": f"<= {target['warm_ms']:.0f} ms / <= {target['changed_ms']:.0f} ms",
                "met": m["warm_ms"] <= target["warm_ms"]
                and m["changed_ms"] <= target["changed_ms"],
            }
        )
        rows.append(
            {
                "benchmark": "map page",
                "case": f"{name}, bytes as served (gzip)",
                "ours": f"{m['gzip_kb']:.1f} kB",
                "baseline": f"uncompressed {m['raw_kb']:.1f} kB",
                "ratio": round(m["gzip_kb"] / m["raw_kb"], 2) if m["raw_kb"] else None,
                "target": f"<= {target['nuts2_gzip_kb']:.0f} kB" if level == "nuts2" else "-",
                "met": m["gzip_kb"] <= target["nuts2_gzip_kb"] if level == "nuts2" else None,
            }
        )
    figure = data["figure"]
    rows.append(
        {
            "benchmark": "figure",
            "case": "country PNG 300 dpi, first / again",
            "ours": f"{figure['cold_s']:.2f} s (CPU {figure['cold_cpu_s']:.2f} s) / "
            f"{figure['again_s']:.3f} s",
            "baseline": "(the first download draws it)",
            "ratio": None,
            "target": f"<= {target['figure_s']:g} s first",
            "met": figure["cold_s"] <= target["figure_s"],
        }
    )
    return rows


SUMMARISERS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "startup": _startup,
    "map_page": _map_page,
    "submission": _submission,
    "export_stream": _export,
    "export_under_load": _export_under_load,
    "map_render": _map,
}


def rows_of(script: Path, code: int, since: float) -> list[Row]:
    result = RESULTS / f"{script.stem}.json"
    summarise = SUMMARISERS.get(script.stem)
    fresh = result.exists() and result.stat().st_mtime >= since
    if summarise is None or not fresh:
        return [
            {
                "benchmark": script.stem,
                "case": "(no results file)" if not fresh else "(see its output)",
                "ours": "",
                "baseline": "",
                "ratio": None,
                "target": f"exit status {code}",
                "met": code == 0 if fresh else False,
            }
        ]
    return summarise(json.loads(result.read_text(encoding="utf-8")))


def print_table(rows: list[Row]) -> None:
    columns = ["benchmark", "case", "ours", "baseline", "ratio", "target", "met"]
    cells = [
        [
            {True: "yes", False: "NO", None: "-"}[r[c]] if c == "met" else str(r[c] or "")
            for c in columns
        ]
        for r in rows
    ]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in cells:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=None, help="script names to run")
    parser.add_argument("--quick", action="store_true", help="smaller runs, to try the runner")
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]
    rows: list[Row] = []
    runs = []
    for script in scripts(args.only):
        started = time.time()
        extra = (QUICK_ARGS if args.quick else FAST_ARGS).get(script.name, [])
        code, seconds = run(script, extra)
        runs.append({"script": script.name, "args": extra, "exit": code, "seconds": round(seconds)})
        rows.extend(rows_of(script, code, started))
    load_after = [round(x, 2) for x in os.getloadavg()]
    print(
        f"\nAll benchmarks, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load average (1/5/15 min) "
        f"{load_before} before, {load_after} after:\n"
    )
    print_table(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "run_all.json").write_text(
        json.dumps(
            {
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "cpus": os.cpu_count(),
                "load_average_before": load_before,
                "load_average_after": load_after,
                "runs": runs,
                "rows": rows,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    failed = [r["script"] for r in runs if r["exit"] != 0]
    missed = [r for r in rows if r["met"] is False]
    if failed or missed:
        print(
            f"\n{len(missed)} figure(s) miss their target; scripts with exit status != 0: {failed}"
        )
    return 1 if failed or missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
