"""Start-up: the command line and the server, beside a bare interpreter in the same run.

Measured as a user meets them, each in a new process, median of ``--repeat`` runs:

* ``python -c pass``: the baseline, the interpreter alone on this machine now;
* ``accessgap --help``: target at most 1 s;
* ``accessgap users create`` (an administrator with an authenticator, on a migrated SQLite
  database; the migration is set-up, not measured): target at most 3 s;
* the server: ``uvicorn api.asgi:app`` from its start until ``/health/ready`` answers 200,
  target at most 3 s.

Byte-code is written and reused, as for an installed package (``PYTHONDONTWRITEBYTECODE`` is
dropped for the children): without it every start compiles the app's modules again.

Each figure is also given as a multiple of the baseline, which moves less with the machine's
load. Writes ``bench/results/startup.json``; exit status 1 when a target is missed.

    .venv/bin/python bench/startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.loadkit.servers import free_port, log_tail, pid_alive, server_env  # noqa: E402

RESULTS = REPO_ROOT / "bench" / "results" / "startup.json"
TARGETS = {"help": 1.0, "users_create": 3.0, "server_ready": 3.0}
PASSWORD = "violet harbour lantern 93"  # noqa: S105 - a benchmark account on a throwaway file


def children_cpu() -> float:
    """CPU seconds (user and system) of the ended child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(
        command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}")
    return seconds


def server_ready(env: dict[str, str], folder: Path) -> float:
    """Seconds from starting uvicorn to the first 200 of ``/health/ready``."""
    port = free_port()
    log = folder / f"server-{port}.log"
    url = f"http://127.0.0.1:{port}/health/ready"
    command = [sys.executable, "-m", "uvicorn", "api.asgi:app", "--port", str(port)]
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--log-level", "warning"],
            env=env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            while time.perf_counter() - started < 120:
                if not pid_alive(process.pid):
                    raise RuntimeError(f"the server stopped:\n{log_tail(log)}")
                try:
                    if httpx.get(url, timeout=5).status_code == 200:
                        return time.perf_counter() - started
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
            raise RuntimeError(f"the server was not ready in 120 s:\n{log_tail(log)}")
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="accessgap-startup-") as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            **server_env(f"sqlite:///{folder / 'startup.sqlite3'}", folder),
            "ACCESSGAP_NEW_PASSWORD": PASSWORD,
        }
        # As installed: byte-code compiled once and kept (a shell or CI may have turned that
        # off, and compiling the app's modules on every start is about a second of CPU).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cli = [sys.executable, "-m", "api.cli"]
        timed([*cli, "db", "upgrade"], env)  # set-up, and the byte-code of what it imports
        timed([sys.executable, "-c", "import api.asgi"], env)
        runs: dict[str, list[float]] = {k: [] for k in ("baseline", *TARGETS)}
        cpu: dict[str, list[float]] = {k: [] for k in runs}

        def measure(name: str, run: Callable[[], float]) -> None:
            before = children_cpu()
            runs[name].append(run())
            cpu[name].append(children_cpu() - before)

        for _ in range(args.repeat):
            measure("baseline", lambda: timed([sys.executable, "-c", "pass"], env))
            measure("help", lambda: timed([*cli, "--help"], env))
            email = f"bench-{uuid.uuid4().hex[:8]}@example.org"
            create = [*cli, "users", "create", "--email", email, "--role", "admin"]
            measure("users_create", lambda create=create: timed(create, env))
            measure("server_ready", lambda: server_ready(env, folder))
    medians = {name: statistics.median(values) for name, values in runs.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    rows = []
    print("| what | median s | x python -c pass | CPU s | target | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| python -c pass | {medians['baseline']:.3f} | 1.0 | {cpu_medians['baseline']:.3f} "
        "| (baseline) | - |"
    )
    for name, target in TARGETS.items():
        met = medians[name] <= target
        ratio = medians[name] / medians["baseline"]
        print(
            f"| {name} | {medians[name]:.3f} | {ratio:.1f} | {cpu_medians[name]:.3f} "
            f"| <= {target:g} s | {met} |"
        )
        rows.append(
            {
                "what": name,
                "seconds": round(medians[name], 3),
                "ratio": round(ratio, 1),
                "cpu_seconds": round(cpu_medians[name], 3),
                "target_seconds": target,
                "met": met,
                "runs": [round(x, 3) for x in runs[name]],
            }
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "baseline_seconds": round(medians["baseline"], 3),
                "results": rows,
                "load_average": [round(x, 2) for x in os.getloadavg()],
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0 if all(row["met"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
