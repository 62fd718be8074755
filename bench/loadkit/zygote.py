"""A fork server for app servers: import the app once, then fork a uvicorn server per request.

Importing the app (pandas, geopandas, matplotlib, scipy) takes seconds on a busy 2-core machine;
the crash tests restart the server many times. This process imports everything once and then,
for each line ``{"app": ..., "port": ..., "env": {...}, "log": ...}`` read on stdin, forks a
child that builds the app from those settings and serves it with uvicorn on the port, and
answers ``{"pid": ...}`` on stdout. The child is an ordinary uvicorn server process (gunicorn's
``preload_app`` starts its workers the same way); a test kills it with SIGKILL and asks for
another. No database connection is opened before the fork.

    python -m bench.loadkit.zygote
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
from typing import Any

# Everything heavy, imported once before any fork.
import uvicorn

import api.app
import api.settings


def build_app(spec: dict[str, Any]) -> Any:
    """The ASGI app a spawn line names: ``real`` (the product) or ``module:factory``."""
    env = spec.get("env", {})
    if spec["app"] == "real":
        settings = api.settings.Settings(
            **{k.removeprefix("ACCESSGAP_").lower(): v for k, v in env.items()}
        )
        return api.app.create_app(settings)
    module_name, _, factory = spec["app"].partition(":")
    return getattr(importlib.import_module(module_name), factory)(env)


def serve_child(spec: dict[str, Any]) -> None:
    """In the forked child: own log file, own process group, then serve until killed."""
    os.setpgid(0, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    log = os.open(spec["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.environ.update(spec.get("env", {}))
    config = uvicorn.Config(
        build_app(spec),
        host="127.0.0.1",
        port=int(spec["port"]),
        log_level=spec.get("log_level", "info"),
        access_log=bool(spec.get("access_log", True)),
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()


def main() -> int:
    # Children are reaped automatically: the tests watch them over HTTP, not by exit status.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print(json.dumps({"ready": os.getpid()}), flush=True)
    while line := sys.stdin.readline():
        if not line.strip():
            continue
        spec = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child never returns into this loop
            code = 0
            try:
                serve_child(spec)
            except BaseException:  # report anything to the child's log, then leave
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print(json.dumps({"pid": pid}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
