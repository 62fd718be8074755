"""``accessgap worker``: run background jobs (``docs/jobs.md``).

On PostgreSQL it is a procrastinate worker on the shared queue: start as many as the machines
can hold, anywhere that reaches the database. On SQLite it runs the embedded worker loop in the
foreground (the app process already runs one; this is for running jobs without serving).
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from api.jobs_wiring import job_secrets
from api.settings import Settings
from surveys.db import is_sqlite, make_engine, make_session_factory
from surveys.jobs.runner import EmbeddedWorker, worker_name

console = Console(highlight=False)


def worker_command(
    once: Annotated[
        bool, typer.Option(help="Run the jobs waiting now, then stop (PostgreSQL).")
    ] = False,
) -> None:
    """Run background jobs: figure series, big exports (and later evidence packs)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    try:
        if is_sqlite(settings.database_url):
            _embedded(factory, settings)
            return
        from surveys.jobs.queue import QUEUE, queue_app, sweep

        app = queue_app(settings.database_url, factory, secrets=job_secrets(settings))
        with app.open():
            handed = sweep(app, factory)  # jobs left by a stopped worker or never handed over
        console.print(
            f"Worker {worker_name()} on the shared queue ({len(handed)} jobs waiting).",
            markup=False,
        )
        app.run_worker(queues=[QUEUE], concurrency=1, wait=not once, name=worker_name())
    finally:
        engine.dispose()


def _embedded(factory: sessionmaker[Session], settings: Settings) -> None:
    stopped = threading.Event()
    worker = EmbeddedWorker(factory, secrets=job_secrets(settings))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    worker.start()
    console.print(f"Worker {worker_name()} polling the job table (SQLite); Ctrl+C stops it.")
    stopped.wait()
    worker.stop()
