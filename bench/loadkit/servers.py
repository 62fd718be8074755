"""App servers on loopback: forked uvicorn servers (restartable in a fraction of a second) and
gunicorn with uvicorn workers, as ``make serve-prod`` runs it."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
# How long a server may take to answer its readiness probe. A cold start imports pandas,
# geopandas and matplotlib; on a loaded 2-core machine that has taken more than 30 s.
READY_SECONDS = 120.0


# Under pytest-xdist each worker takes its server ports from a band of its own, below Linux's
# ephemeral range (32768-60999, where client sockets get theirs): a port one worker probed and
# is about to hand to a server is never the one another worker probes at the same moment.
PORT_BAND_START, PORT_BAND_WIDTH = 10_000, 2_000
_handed_out: set[int] = set()


def _port_band() -> range | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... (set by xdist)
    if not worker.startswith("gw") or not worker[2:].isdigit():
        return None
    start = PORT_BAND_START + int(worker[2:]) * PORT_BAND_WIDTH
    if start + PORT_BAND_WIDTH > 32_768:  # pragma: no cover - more workers than bands
        return None
    return range(start, start + PORT_BAND_WIDTH)


def free_port() -> int:
    """A loopback port nobody listens on now (and, in this process, not handed out before)."""
    band = _port_band()
    if band is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
            return port
    for candidate in random.Random().sample(band, len(band)):  # noqa: S311 - not a secret
        if candidate in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
        _handed_out.add(candidate)
        return candidate
    raise RuntimeError(f"no free port left in {band}")  # pragma: no cover


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):  # gone between the two looks
        return False
    return state != "Z"


def wait_ready(base: str, pid: int, log: Path, *, timeout: float = READY_SECONDS) -> None:
    """Poll ``/health/ready`` until it answers 200; fail early if the process died.

    The error says what was waited for (the URL), what answered last (a status and the start of
    the body, or the connection error) and the tail of the server's log.
    """
    url = f"{base}/health/ready"
    deadline = time.monotonic() + timeout
    last = "nothing yet"
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            raise RuntimeError(
                f"the server {pid} stopped before {url} answered 200 (last answer: {last}); "
                f"its log {log} ends with:\n{log_tail(log)}"
            )
        try:
            answer = httpx.get(url, timeout=5)
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:300]!r}"
        time.sleep(0.05)
    raise RuntimeError(
        f"the server {pid} did not answer 200 at {url} within {timeout:.0f} s "
        f"(last answer: {last}); its log {log} ends with:\n{log_tail(log)}"
    )


def log_tail(log: Path, size: int = 3000) -> str:
    """The end of a server's log, for an error message."""
    try:
        return log.read_text(errors="replace")[-size:] or "(empty)"
    except FileNotFoundError:
        return "(no log written)"


@dataclass
class Served:
    """One running server: its base URL, its pid (or process group) and its log."""

    base: str
    pid: int
    log: Path
    group: bool = False  # signal the whole process group (gunicorn master and workers)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return pid_alive(self.pid)

    def signal(self, signum: int) -> None:
        try:
            if self.group:
                os.killpg(self.pid, signum)
            else:
                os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, in-flight requests die with the process."""
        self.signal(signal.SIGKILL)
        self._wait_gone(10)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (graceful), then SIGKILL if it does not leave in time."""
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        if not self._wait_gone(timeout):
            self.kill()

    def _wait_gone(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None:
                try:
                    self.process.wait(timeout=0.05)
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if not pid_alive(self.pid):
                return True
            time.sleep(0.02)
        return False

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def server_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The settings of a test server (``ACCESSGAP_*``), as the environment would give them."""
    return {
        "ACCESSGAP_DATABASE_URL": database_url,
        "ACCESSGAP_ENVIRONMENT": "test",
        "ACCESSGAP_DATA_DIR": str(data_dir),
        "ACCESSGAP_SECRET_KEY": "load-secret-" + "k" * 32,
        "ACCESSGAP_PSEUDONYM_SECRET": "load-pseudonym-" + "p" * 32,
        **extra,
    }


class Zygote:
    """A process that has imported the app, forking a uvicorn server on demand.

    See :mod:`bench.loadkit.zygote`. Use as a context manager; every server it started is
    stopped on exit.
    """

    def __init__(self, log: Path) -> None:
        self.log = log
        self._out = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.loadkit.zygote"],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._out,
            start_new_session=True,
        )
        self.children: list[Served] = []
        self._read(READY_SECONDS)

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(
                f"the fork server {self.process.pid} did not answer within {timeout:.0f} s; "
                f"its log {self.log} ends with:\n{log_tail(self.log)}"
            )
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the fork server {self.process.pid} stopped; "
                f"its log {self.log} ends with:\n{log_tail(self.log)}"
            )
        answer: dict[str, Any] = json.loads(line)
        return answer

    def spawn(
        self,
        env: dict[str, str],
        log: Path,
        *,
        app: str = "real",
        port: int | None = None,
        access_log: bool = True,
        wait: bool = True,
    ) -> Served:
        """Fork a server for ``app`` with these settings; wait until it is ready."""
        port = port or free_port()
        spec = {"app": app, "port": port, "env": env, "log": str(log), "access_log": access_log}
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(spec) + "\n").encode())
        self.process.stdin.flush()
        pid = int(self._read(READY_SECONDS)["pid"])
        served = Served(base=f"http://127.0.0.1:{port}", pid=pid, log=log)
        self.children.append(served)
        if wait:
            wait_ready(served.base, pid, log)
        return served

    def close(self) -> None:
        for child in self.children:
            child.stop(timeout=5)
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._out.close()

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_gunicorn(
    env: dict[str, str], log: Path, *, workers: int = 2, port: int | None = None
) -> Served:
    """``gunicorn -c api/gunicorn_conf.py api.asgi:app`` on a free port, as serve-prod runs it."""
    port = port or free_port()
    out = log.open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(REPO_ROOT / "api" / "gunicorn_conf.py"),
            "api.asgi:app",
        ],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            **env,
            "ACCESSGAP_BIND": f"127.0.0.1:{port}",
            "ACCESSGAP_WORKERS": str(workers),
        },
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    served = Served(
        base=f"http://127.0.0.1:{port}", pid=process.pid, log=log, group=True, process=process
    )
    try:
        wait_ready(served.base, process.pid, log)
    except BaseException:
        served.stop(timeout=5)
        raise
    return served
