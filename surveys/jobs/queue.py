"""The shared job queue on PostgreSQL: procrastinate, in the application's own database.

Several ``accessgap worker`` processes, on one machine or many, take job ids from
procrastinate's queue (its tables are created by revision 0012) and run them with
:func:`surveys.jobs.runner.run_job`. Our ``job`` table stays the record the pages read;
procrastinate only hands each id to exactly one worker (``SELECT ... FOR UPDATE SKIP LOCKED``
and LISTEN/NOTIFY underneath). Why procrastinate and not a Redis-backed queue: ``docs/jobs.md``.

Dispatching happens after the submitting transaction commits (:func:`dispatch_after_commit`),
so a worker never receives an id it cannot read yet. An id that never reached the queue (the
process died between the commit and the deferral) is deferred again by the worker's sweep
(:func:`sweep`), which also puts back the jobs of dead workers; deferring the same id twice is
harmless, because the queueing lock keeps one waiting copy and the claim in
:func:`surveys.jobs.runner.claim` lets one run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import suppress

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from surveys.jobs import runner
from surveys.jobs.service import SUBMITTED_KEY

logger = logging.getLogger("accessgap.jobs")
QUEUE = "accessgap"
TASK = "accessgap.run_job"
SWEEP_TASK = "accessgap.sweep_jobs"


def conninfo(database_url: str) -> str:
    """The libpq connection string of an SQLAlchemy PostgreSQL URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def queue_app(
    database_url: str,
    factory: sessionmaker[Session],
    *,
    secrets: Mapping[str, str] | None = None,
    pool_size: int = 4,
) -> procrastinate.App:
    """The procrastinate app of one database, with the task that runs a job by id and a
    sweep every minute; ``pool_size`` connections at most (an app process that only hands
    jobs over needs one or two)."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(database_url), min_size=1, max_size=pool_size
        )
    )
    kept = dict(secrets or {})

    @app.task(name=TASK, queue=QUEUE)
    def run_job(job_id: int) -> None:
        outcome = runner.run_job(factory, job_id, secrets=kept)
        logger.info("job %s: %s", job_id, outcome)

    @app.periodic(cron="* * * * *")
    @app.task(name=SWEEP_TASK, queue=QUEUE, queueing_lock=SWEEP_TASK)
    def sweep_jobs(timestamp: int) -> None:
        sweep(app, factory)

    return app


def defer(app: procrastinate.App, job_id: int) -> None:
    """Hand a job id to the queue (once: an id already waiting is not queued twice)."""
    with suppress(AlreadyEnqueued):
        app.configure_task(TASK, queueing_lock=f"job-{job_id}", lock=f"job-{job_id}").defer(
            job_id=job_id
        )


def sweep(app: procrastinate.App, factory: sessionmaker[Session]) -> list[int]:
    """Put back the jobs of dead workers and (re)hand every queued job to the queue."""
    runner.requeue_stalled(factory)
    ids = runner.queued_ids(factory)
    for job_id in ids:
        defer(app, job_id)
    return ids


def dispatch_after_commit(factory: sessionmaker[Session], app: procrastinate.App) -> None:
    """After each commit of a session of ``factory``, hand the jobs it submitted to the queue.

    A failure to reach the queue is logged: the job stays queued, and the next sweep of any
    worker hands it over.
    """

    @event.listens_for(factory, "after_commit")
    def _dispatch(session: Session) -> None:
        for job_id in session.info.pop(SUBMITTED_KEY, []):
            try:
                defer(app, job_id)
            except Exception:
                logger.exception("job %s could not be queued now; the sweep will", job_id)

    @event.listens_for(factory, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(SUBMITTED_KEY, None)
