"""Running jobs: claim one, do the work with progress and a heartbeat, keep the result or the
reason it failed; put back the jobs a dead worker left behind.

The same functions serve both queues (``docs/jobs.md``): the in-process worker thread of the
embedded SQLite set-up (:class:`EmbeddedWorker`) claims the next queued job itself; on
PostgreSQL a procrastinate worker receives a job id (:mod:`surveys.jobs.queue`) and runs it
with :func:`run_job`. A job is claimed by one atomic ``UPDATE ... WHERE status = 'queued'``, so
two workers never run it together. While the work runs, a heartbeat is written every
:data:`HEARTBEAT_SECONDS`; a running job whose heartbeat is older than :data:`STALLED_AFTER`
belonged to a worker that died (a restart, a crash): :func:`requeue_stalled` puts it back in
the queue, and it runs again from the start (every kind of work is safe to repeat). A job
that raises is marked failed with the error's message: a domain error's own sentence, or
"Internal error" with the exception's type for anything else (the traceback goes to the log).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from contextlib import suppress

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from surveys.accounts.models import User
from surveys.db import transaction, utcnow
from surveys.errors import DomainError
from surveys.jobs.kinds import JobContext, JobOutput, kind_named
from surveys.jobs.models import Job, JobResult
from surveys.policy import Actor, staff_actor, system_actor

logger = logging.getLogger("accessgap.jobs")
HEARTBEAT_SECONDS = 10.0
STALLED_AFTER = dt.timedelta(seconds=60)
MAX_ATTEMPTS = 3
"""A job that killed its worker this many times is failed rather than run again."""


def worker_name() -> str:
    """This process, as a job's ``worker`` column names it."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def claim(factory: sessionmaker[Session], job_id: int | None = None) -> int | None:
    """Mark one queued job (the oldest, or ``job_id``) running for this worker; its id, or
    None when there is none to take. Atomic: of two workers, one gets it."""
    with transaction(factory) as session:
        query = select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1)
        candidate = job_id if job_id is not None else session.scalar(query)
        if candidate is None:
            return None
        now = utcnow()
        taken = session.execute(
            update(Job)
            .where(Job.id == candidate, Job.status == "queued")
            .values(
                status="running",
                started_at=now,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
                worker=worker_name(),
                progress_note="Started",
            )
        )
        return candidate if taken.rowcount == 1 else None  # type: ignore[attr-defined]


def run_job(
    factory: sessionmaker[Session], job_id: int, *, secrets: Mapping[str, str] | None = None
) -> str:
    """Claim ``job_id`` and run it; the status it ended in (or ``skipped`` when another worker
    has it or it is finished)."""
    if claim(factory, job_id) is None:
        return "skipped"
    return run_claimed(factory, job_id, secrets=secrets or {})


def run_next(factory: sessionmaker[Session], *, secrets: Mapping[str, str] | None = None) -> str:
    """Claim the oldest queued job and run it; its final status, or ``idle``."""
    job_id = claim(factory)
    if job_id is None:
        return "idle"
    return run_claimed(factory, job_id, secrets=secrets or {})


def run_claimed(factory: sessionmaker[Session], job_id: int, *, secrets: Mapping[str, str]) -> str:
    """Do the work of a job this worker has claimed, and store what came of it."""
    with factory() as session:
        job = session.get_one(Job, job_id)
        kind, params, user_id = job.kind, dict(job.params), job.user_id
        label = job.requested_by
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(factory, job_id, stop), name=f"job-{job_id}-heartbeat", daemon=True
    )
    beat.start()
    try:
        actor = _actor(factory, user_id, label)
        output = kind_named(kind).run(
            JobContext(
                job_id=job_id,
                params=params,
                actor=actor,
                factory=factory,
                progress=lambda done, total, note: _progress(factory, job_id, done, total, note),
                secrets=secrets,
            )
        )
    except DomainError as error:
        _fail(factory, job_id, error.detail)
        return "failed"
    except Exception as error:
        logger.exception("job %s (%s) failed", job_id, kind)
        _fail(factory, job_id, f"Internal error ({type(error).__name__}); the log has the details.")
        return "failed"
    finally:
        stop.set()
        beat.join(timeout=5)
    _succeed(factory, job_id, output)
    return "succeeded"


def requeue_stalled(factory: sessionmaker[Session], *, now: dt.datetime | None = None) -> list[int]:
    """Put back in the queue the running jobs whose worker stopped beating (or fail those that
    stopped their worker :data:`MAX_ATTEMPTS` times); the ids put back."""
    cutoff = (now or utcnow()) - STALLED_AFTER
    with transaction(factory) as session:
        stalled = list(
            session.scalars(
                select(Job)
                .where(Job.status == "running", Job.heartbeat_at < cutoff)
                .order_by(Job.id)
            )
        )
        again = []
        for job in stalled:
            if job.attempts >= MAX_ATTEMPTS:
                job.status = "failed"
                job.finished_at = utcnow()
                job.error = (
                    f"The worker running this job stopped {job.attempts} times; it was not "
                    "started again. Submit it anew, or ask an operator to check the workers."
                )
                continue
            job.status = "queued"
            job.progress_note = "Interrupted by a restart; queued to run again"
            again.append(job.id)
        return again


def queued_ids(factory: sessionmaker[Session]) -> list[int]:
    """The ids of every queued job, oldest first (for a queue that is handed ids)."""
    with factory() as session:
        return list(session.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.id)))


def _actor(factory: sessionmaker[Session], user_id: int | None, label: str) -> Actor:
    """Who the work runs as: the user who asked, with their rights as they are now."""
    if user_id is None:
        return system_actor(label)
    with factory() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise _NoLongerAllowed(
                "The account that asked for this job is no longer active; the job was not run."
            )
        return staff_actor(
            user_id=user.id,
            role=user.role,
            domains=user.domains,
            countries=user.countries,
            via="job",
        )


class _NoLongerAllowed(DomainError):
    code = "job.requester_inactive"


def _progress(
    factory: sessionmaker[Session], job_id: int, done: int, total: int, note: str
) -> None:
    with transaction(factory) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                progress_done=done,
                progress_total=total,
                progress_note=note[:300],
                heartbeat_at=utcnow(),
            )
        )


def _heartbeat(factory: sessionmaker[Session], job_id: int, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        # A missed beat is retried at the next one.
        with suppress(Exception), transaction(factory) as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running")
                .values(heartbeat_at=utcnow())
            )


def _fail(factory: sessionmaker[Session], job_id: int, reason: str) -> None:
    with transaction(factory) as session:
        job = session.get_one(Job, job_id)
        job.status = "failed"
        job.error = reason
        job.finished_at = utcnow()
        job.progress_note = "Failed"


def _succeed(factory: sessionmaker[Session], job_id: int, output: JobOutput) -> None:
    with transaction(factory) as session:
        job = session.get_one(Job, job_id)
        previous = session.get(JobResult, job_id)
        if previous is not None:  # a re-run replaces what an interrupted run left
            session.delete(previous)
            session.flush()
        session.add(
            JobResult(
                job_id=job_id,
                filename=output.filename,
                media_type=output.media_type,
                size=len(output.content),
                sha256=hashlib.sha256(output.content).hexdigest(),
                content=output.content,
            )
        )
        job.status = "succeeded"
        job.finished_at = utcnow()
        job.progress_done = max(job.progress_done, job.progress_total)
        job.progress_note = "Done"
        job.error = None


class EmbeddedWorker:
    """The jobs of the embedded SQLite set-up, run by a thread of the app process.

    It polls the job table every ``poll_seconds`` (no other service needed), runs one job at a
    time, and on start (and every minute) puts back the jobs a stopped process left running.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        secrets: Mapping[str, str] | None = None,
        poll_seconds: float = 1.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._factory = factory
        self._secrets = dict(secrets or {})
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="accessgap-jobs", daemon=True)
        self._on_error = on_error

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the job in hand; a job still running then is re-run after a restart."""
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        sweep_every = max(1, int(60 / self._poll))
        ticks = 0
        while not self._stop.is_set():
            try:
                if ticks % sweep_every == 0:
                    requeue_stalled(self._factory)
                ticks += 1
                if run_next(self._factory, secrets=self._secrets) == "idle":
                    self._stop.wait(self._poll)
            except Exception as error:  # the loop must outlive a database hiccup
                logger.exception("the embedded job worker hit an error; it carries on")
                if self._on_error is not None:
                    self._on_error(error)
                self._stop.wait(self._poll)
