"""The job use cases: submit long work, follow it, download what it produced.

:func:`submit_job` checks the kind's permission and parameters, stores the job as queued and
records ``job.submit`` in the same transaction; the queue picks it up once that transaction
commits (:mod:`surveys.jobs.runner`, :mod:`surveys.jobs.queue`). A user sees their own jobs; a
holder of ``audit:read`` (coordinators) sees everyone's. Downloading a result is audited
(``job.download``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from surveys.audit.service import record
from surveys.jobs.kinds import JobNotFound, kind_named
from surveys.jobs.models import Job, JobResult
from surveys.policy import Actor, Permission, authorize

SUBMITTED_KEY = "accessgap.jobs_submitted"
"""Where a session keeps the ids of jobs submitted in its transaction, for the dispatcher."""
MAX_LISTED = 100


@dataclass(frozen=True)
class JobDownload:
    """A job's result as the adapters send it."""

    filename: str
    media_type: str
    content: bytes
    sha256: str


def submit_job(
    session: Session,
    actor: Actor,
    kind: str,
    params: Mapping[str, Any],
    *,
    request_id: str | None = None,
) -> Job:
    """Queue a job of ``kind`` for the actor, after checking its permission and parameters."""
    found = kind_named(kind)
    authorize(actor, found.permission)
    title = found.check(session, actor, params)
    job = Job(
        kind=kind,
        title=title[:300],
        params=dict(params),
        status="queued",
        requested_by=actor.label[:100],
        user_id=actor.user_id,
        progress_done=0,
        progress_total=0,
        progress_note="Waiting for a worker",
        attempts=0,
    )
    session.add(job)
    session.flush()
    session.info.setdefault(SUBMITTED_KEY, []).append(job.id)
    record(
        session,
        actor=actor,
        action="job.submit",
        object_type="job",
        object_id=job.id,
        details={"kind": kind},
        request_id=request_id,
    )
    return job


def list_jobs(session: Session, actor: Actor) -> list[Job]:
    """The actor's jobs (everyone's for an auditor), newest first."""
    authorize(actor, Permission.ACCOUNT)
    query = select(Job).order_by(Job.id.desc()).limit(MAX_LISTED)
    return list(session.scalars(_scoped(actor, query)))


def get_job(session: Session, actor: Actor, job_id: int) -> Job:
    """One job the actor may see; :class:`JobNotFound` (404) for any other."""
    authorize(actor, Permission.ACCOUNT)
    job = session.scalar(_scoped(actor, select(Job).where(Job.id == job_id)))
    if job is None:
        raise JobNotFound(f"No job {job_id} of yours exists.")
    return job


def download_result(
    session: Session, actor: Actor, job_id: int, *, request_id: str | None = None
) -> JobDownload:
    """The file a finished job produced, audited as ``job.download``."""
    job = get_job(session, actor, job_id)
    result = session.get(JobResult, job.id)
    if job.status != "succeeded" or result is None:
        raise JobNotFound(f"Job {job_id} has no result to download ({job.status}).")
    record(
        session,
        actor=actor,
        action="job.download",
        object_type="job",
        object_id=job.id,
        details={"kind": job.kind, "bytes": result.size, "sha256": result.sha256},
        request_id=request_id,
    )
    return JobDownload(result.filename, result.media_type, result.content, result.sha256)


def _scoped(actor: Actor, query: Select[Job]) -> Select[Job]:
    if Permission.AUDIT_READ in actor.permissions:
        return query
    return query.where(Job.user_id == actor.user_id, Job.user_id.is_not(None))
