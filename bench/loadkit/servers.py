"""App servers on loopback: forked uvicorn servers (restartable in a fraction of a second) and
gunicorn with uvicorn workers, as ``make serve-prod`` runs it."""

from __future__ import annotations

import json
import os
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
READY_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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
    """Poll ``/health/ready`` until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            raise RuntimeError(f"the server {pid} stopped: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server {pid} was not ready within {timeout:.0f} s")


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
            raise RuntimeError(f"the fork server did not answer within {timeout:.0f} s")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server stopped: {self.log.read_text()[-3000:]}")
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
        pid = int(self._read(30)["pid"])
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
        wait_ready(served.base, process.pid, log, timeout=120)
    except BaseException:
        served.stop(timeout=5)
        raise
    return served
