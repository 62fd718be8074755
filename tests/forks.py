"""One fork server per test process: app servers in a fraction of a second, on any database.

Starting ``uvicorn api.asgi:app`` in a fresh interpreter imports pandas, geopandas and
matplotlib first: seconds on a quiet machine, more than 30 s on a loaded one. The browser tests
and the load and fault tests instead ask :class:`bench.loadkit.servers.Zygote`, a process that
has imported the app once, to fork a uvicorn server with the settings of the test (see
``bench/loadkit/zygote.py``). Each pytest process (each xdist worker) starts its own fork
server the first time a test asks for one, and stops it, with every server it forked, when the
session ends (``tests/conftest.py``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.loadkit.servers import Zygote

_forks: Zygote | None = None


def app_forks() -> Zygote:
    """The fork server of this test process, started on first use (or again if it died)."""
    global _forks
    if _forks is None or _forks.process.poll() is not None:
        folder = Path(tempfile.mkdtemp(prefix="accessgap-forks-"))
        _forks = Zygote(folder / "zygote.log")
    return _forks


def close_app_forks() -> None:
    """Stop the fork server and every server it started (at the end of the session)."""
    global _forks
    if _forks is not None:
        forks, _forks = _forks, None
        forks.close()
