"""Background jobs on both databases: submitted with the kind's permission, run with progress,
the result kept; a failure says why; a job a dead worker left running is run again; on
PostgreSQL, procrastinate hands each job to exactly one of several workers."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

import mapping.job_kinds  # noqa: F401 - registers the kinds
from surveys import migrate
from surveys.audit.models import AuditEvent
from surveys.db import make_engine, make_session_factory, transaction, utcnow
from surveys.errors import InvalidInput
from surveys.jobs import runner, service
from surveys.jobs.kinds import JobContext, JobKind, JobNotFound, JobOutput, register
from surveys.jobs.models import Job
from surveys.policy import Permission, PermissionDenied, staff_actor, system_actor
from tests.accounts_fixtures import make_user
from tests.databases import fresh_postgres_database
from tests.mapping.test_service import populate

SYSTEM = system_actor("system:test")
SECRETS = {"pseudonym_secret": "test-pseudonym-" + "y" * 32}


def _echo(context: JobContext) -> JobOutput:
    for step in range(1, 4):
        context.progress(step, 3, f"step {step}")
    return JobOutput("echo.txt", "text/plain", str(dict(context.params)).encode())


def _refuse(context: JobContext) -> JobOutput:
    raise InvalidInput("The campaign was deleted meanwhile; ask again.")


def _crash(context: JobContext) -> JobOutput:
    raise RuntimeError("boom at /secret/path")


for name, work in (("test_echo", _echo), ("test_refuse", _refuse), ("test_crash", _crash)):
    register(JobKind(name, Permission.MAPS_READ, lambda s, a, p: "Test job", work))


def submitted(factory: sessionmaker[Session], kind: str, params: dict[str, object]) -> int:
    with transaction(factory) as session:
        return service.submit_job(session, SYSTEM, kind, params).id


def job(factory: sessionmaker[Session], job_id: int) -> Job:
    with factory() as session:
        return session.get_one(Job, job_id)


def test_a_job_runs_as_its_requester_with_progress_and_a_kept_result(
    session_factory: sessionmaker[Session],
) -> None:
    with transaction(session_factory) as session:
        lead = make_user(session, role="domain_lead", domains=["nuclear_medicine"])
        actor = staff_actor(user_id=lead.id, role="domain_lead", domains=["nuclear_medicine"])
        job_id = service.submit_job(session, actor, "test_echo", {"n": 7}, request_id="r1").id
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "job.submit")).all()[
            -1
        ]
        assert event.object_id == str(job_id)
    assert job(session_factory, job_id).status == "queued"
    assert runner.run_next(session_factory, secrets=SECRETS) == "succeeded"
    done = job(session_factory, job_id)
    assert (done.progress_done, done.progress_total, done.progress_note) == (3, 3, "Done")
    assert done.worker == runner.worker_name()
    with transaction(session_factory) as session:
        result = service.download_result(session, actor, job_id)
        assert [j.id for j in service.list_jobs(session, actor)] == [job_id]
    assert result.content == b"{'n': 7}"
    assert runner.run_next(session_factory) == "idle"
    with transaction(session_factory) as session:
        other = make_user(session, role="domain_lead", domains=["nuclear_medicine"])
        stranger = staff_actor(user_id=other.id, role="domain_lead", domains=["nuclear_medicine"])
        with pytest.raises(JobNotFound):
            service.get_job(session, stranger, job_id)  # another user's job is not found
        assert service.list_jobs(session, stranger) == []


def test_a_job_is_checked_when_submitted(session: Session) -> None:
    campaign = populate(session)
    researcher = staff_actor(user_id=1, role="researcher")
    with pytest.raises(PermissionDenied):
        service.submit_job(session, researcher, "figure_series", {"campaign": campaign.slug})
    with pytest.raises(InvalidInput, match="declares no indicator nope"):
        service.submit_job(
            session, SYSTEM, "figure_series", {"campaign": campaign.slug, "indicators": ["nope"]}
        )
    with pytest.raises(InvalidInput, match="different units"):
        service.submit_job(
            session,
            SYSTEM,
            "figure_series",
            {"campaign": campaign.slug, "indicators": ["pet_per_m", "pet_wait"]},
        )


def test_a_failed_job_says_why(session_factory: sessionmaker[Session]) -> None:
    refused = submitted(session_factory, "test_refuse", {})
    crashed = submitted(session_factory, "test_crash", {})
    assert runner.run_next(session_factory) == "failed"
    assert runner.run_next(session_factory) == "failed"
    assert job(session_factory, refused).error == "The campaign was deleted meanwhile; ask again."
    error = job(session_factory, crashed).error or ""
    assert error.startswith("Internal error (RuntimeError)")
    assert "/secret/path" not in error


def test_a_job_left_running_by_a_dead_worker_runs_again(
    session_factory: sessionmaker[Session],
) -> None:
    job_id = submitted(session_factory, "test_echo", {"n": 1})
    assert runner.claim(session_factory) == job_id  # a worker took it, then the process died
    assert runner.requeue_stalled(session_factory) == []  # its heartbeat is fresh
    later = utcnow() + runner.STALLED_AFTER + dt.timedelta(seconds=1)
    assert runner.requeue_stalled(session_factory, now=later) == [job_id]
    assert job(session_factory, job_id).status == "queued"
    assert runner.run_next(session_factory) == "succeeded"
    assert job(session_factory, job_id).attempts == 2
    # A job that stopped its worker every time is failed, with a reason, not run for ever.
    again = submitted(session_factory, "test_echo", {})
    with transaction(session_factory) as session:
        session.execute(
            update(Job)
            .where(Job.id == again)
            .values(status="running", attempts=runner.MAX_ATTEMPTS, heartbeat_at=utcnow())
        )
    assert runner.requeue_stalled(session_factory, now=later) == []
    assert "stopped 3 times" in (job(session_factory, again).error or "")


def test_a_dataset_export_runs_as_a_job(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        campaign = populate(session)
    job_id = submitted(
        session_factory,
        "dataset_export",
        {"format": "csv", "filters": {"campaign": campaign.slug}, "pseudonymised": True},
    )
    assert runner.run_next(session_factory, secrets=SECRETS) == "succeeded"
    with transaction(session_factory) as session:
        result = service.download_result(session, SYSTEM, job_id)
        actions = set(
            session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "export"))
        )
    assert result.media_type == "application/zip"
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(result.content)).namelist()
    assert {"export.start", "export.complete"} <= actions


@pytest.fixture(scope="module")
def queue_database() -> Iterator[sessionmaker[Session]]:
    with fresh_postgres_database("accessgap_jobs") as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        yield make_session_factory(engine)
        engine.dispose()


def test_procrastinate_hands_each_job_to_one_worker(
    queue_database: sessionmaker[Session],
) -> None:
    from surveys.jobs.queue import QUEUE, defer, queue_app, sweep

    factory = queue_database
    engine = factory.kw["bind"]
    app = queue_app(engine.url.render_as_string(hide_password=False), factory, secrets=SECRETS)
    ids = [submitted(factory, "test_echo", {"n": n}) for n in range(3)]
    with app.open():
        defer(app, ids[0])
        defer(app, ids[0])  # twice: the queueing lock keeps one waiting copy
        assert sweep(app, factory) == ids  # the sweep hands over the two never dispatched
    # Two workers drain the queue; each job runs once.
    for name in ("worker-a", "worker-b"):
        app.run_worker(queues=[QUEUE], wait=False, name=name, install_signal_handlers=False)
    finished = [job(factory, i) for i in ids]
    assert [j.status for j in finished] == ["succeeded"] * 3
    assert [j.attempts for j in finished] == [1, 1, 1]
    assert runner.run_job(factory, ids[0]) == "skipped"  # finished: nobody runs it again
