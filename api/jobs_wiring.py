"""How this deployment runs its jobs: the embedded worker thread on SQLite, procrastinate on
PostgreSQL (``docs/jobs.md``). Used by the app factory and by ``accessgap worker``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

import mapping.job_kinds  # noqa: F401 - registers every kind of job
from api.settings import Environment, Settings
from surveys.db import is_sqlite
from surveys.jobs.runner import EmbeddedWorker


def job_secrets(settings: Settings) -> dict[str, str]:
    """The settings a job may need, handed to the work functions (never stored with a job)."""
    return {"pseudonym_secret": settings.pseudonym_secret}


def runs_embedded(settings: Settings) -> bool:
    """Whether the app process runs the jobs itself: ``embedded`` always, ``auto`` on SQLite
    outside the test environment (the tests run jobs explicitly), ``external`` never."""
    if settings.jobs_worker == "embedded":
        return True
    return (
        settings.jobs_worker == "auto"
        and is_sqlite(settings.database_url)
        and settings.environment is not Environment.TEST
    )


class JobsRuntime:
    """What runs an app's jobs, stopped at shutdown."""

    def __init__(self, worker: EmbeddedWorker | None, queue: Any | None) -> None:
        self.worker = worker
        self.queue = queue

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.queue is not None:
            self.queue.close()


def start_jobs(settings: Settings, factory: sessionmaker[Session]) -> JobsRuntime | None:
    """Start what runs this app's jobs (None in the test environment, whose tests run jobs
    themselves, unless ``jobs_worker`` says otherwise).

    On PostgreSQL, submitted jobs are handed to procrastinate after their transaction commits,
    and ``accessgap worker`` processes run them; on SQLite (or with ``embedded``), a worker
    thread of this process runs them.
    """
    if settings.environment is Environment.TEST and settings.jobs_worker == "auto":
        return None
    queue = None
    if not is_sqlite(settings.database_url):
        from surveys.jobs.queue import dispatch_after_commit, queue_app

        queue = queue_app(settings.database_url, factory, pool_size=2).open()
        dispatch_after_commit(factory, queue)
    worker = None
    if runs_embedded(settings):
        worker = EmbeddedWorker(factory, secrets=job_secrets(settings))
        worker.start()
    return JobsRuntime(worker, queue)
