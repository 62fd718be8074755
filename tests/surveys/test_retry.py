"""The PostgreSQL retry contract (RELIABILITY.md scenario 25).

Two halves. The first injects serialization failures and deadlocks into a unit of work, so each
rule of :func:`run_transaction` is checked exactly: what is retried, how often, what is logged,
what is raised in the end. The second runs the submission races of scenarios 3, 4 and 23 through
:func:`run_transaction` on PostgreSQL at SERIALIZABLE and at REPEATABLE READ, where the server
aborts one of two conflicting transactions with SQLSTATE 40001: every caller must end with a
success or a clean domain conflict, never a raw database error.

These tests commit, so they run on a database of their own, not inside the rolled-back
transaction of the other tests; the SQLite half needs no server.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.settings import Environment, Settings
from surveys import migrate
from surveys.campaigns.models import Campaign
from surveys.db import IsolationLevel, make_engine, make_session_factory
from surveys.errors import Conflict, DomainError, ErrorKind
from surveys.questionnaires.models import QuestionnaireVersion
from surveys.registry.countries import seed_countries
from surveys.registry.models import Centre
from surveys.responses import submission
from surveys.responses.models import Response
from surveys.retry import (
    RetryableConflict,
    RetryPolicy,
    TransactionRetriesExhausted,
    backoff_delay,
    run_transaction,
)
from tests.builders import make_campaign, make_centre, make_published_form
from tests.databases import fresh_postgres_database

T = TypeVar("T")

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
ANSWERS: dict[str, Any] = {"has_pet": "yes", "units": "3"}
RETRY_LOGGER = "accessgap.db.retry"
QUICK = RetryPolicy(base_delay=0.001, max_delay=0.002)


def injected(kind: type[psycopg.Error]) -> OperationalError:
    """What SQLAlchemy raises when psycopg reports ``kind`` (the shape the retry loop reads)."""
    return OperationalError("COMMIT", {}, kind("injected by the test"))


def retry_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == RETRY_LOGGER and r.levelno == logging.INFO]


def sqlstates(records: list[logging.LogRecord]) -> list[str]:
    """The ``sqlstate`` each retry line carries as a structured field (``extra``)."""
    return [vars(r)["sqlstate"] for r in records]


@pytest.fixture
def retry_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=RETRY_LOGGER)
    return caplog


@pytest.fixture
def notes(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A scratch SQLite database with one table whose ``body`` is unique."""
    engine = make_engine(f"sqlite:///{tmp_path / 'notes.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT UNIQUE)"))
    yield make_session_factory(engine)
    engine.dispose()


def note_count(factory: sessionmaker[Session]) -> int:
    return run_transaction(factory, lambda s: int(s.scalar(text("SELECT count(*) FROM note"))))


class FailingWork:
    """A unit of work that writes a note, then fails with the given errors, one per attempt."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.sessions: list[Session] = []

    def __call__(self, session: Session) -> str:
        self.sessions.append(session)
        session.execute(text("INSERT INTO note (body) VALUES ('written')"))
        if self.failures:
            raise self.failures.pop(0)
        return "done"


class TestRetriedErrors:
    def test_two_serialization_failures_then_success(
        self, notes: sessionmaker[Session], retry_log: pytest.LogCaptureFixture
    ) -> None:
        work = FailingWork(
            injected(psycopg.errors.SerializationFailure),
            injected(psycopg.errors.SerializationFailure),
        )
        assert run_transaction(notes, work, policy=QUICK) == "done"
        assert len(work.sessions) == 3
        assert len({id(s) for s in work.sessions}) == 3
        assert note_count(notes) == 1
        records = retry_records(retry_log)
        assert [(vars(r)["sqlstate"], vars(r)["attempt"]) for r in records] == [
            ("40001", 1),
            ("40001", 2),
        ]
        assert all("SQLSTATE 40001" in r.getMessage() for r in records)

    def test_a_deadlock_is_retried(
        self, notes: sessionmaker[Session], retry_log: pytest.LogCaptureFixture
    ) -> None:
        work = FailingWork(injected(psycopg.errors.DeadlockDetected))
        assert run_transaction(notes, work, policy=QUICK) == "done"
        assert [r.getMessage().count("SQLSTATE 40P01") for r in retry_records(retry_log)] == [1]

    def test_a_retryable_conflict_is_retried_with_its_sqlstate(
        self, notes: sessionmaker[Session], retry_log: pytest.LogCaptureFixture
    ) -> None:
        class LostRaceInSnapshot(RetryableConflict, Conflict):
            sqlstate = "23505"

        work = FailingWork(LostRaceInSnapshot("the winner is not visible yet"))
        assert run_transaction(notes, work, policy=QUICK) == "done"
        assert sqlstates(retry_records(retry_log)) == ["23505"]

    def test_four_failures_give_up_with_a_typed_error(
        self, notes: sessionmaker[Session], retry_log: pytest.LogCaptureFixture
    ) -> None:
        work = FailingWork(*(injected(psycopg.errors.SerializationFailure) for _ in range(4)))
        with pytest.raises(TransactionRetriesExhausted) as raised:
            run_transaction(notes, work, policy=QUICK)
        assert len(work.sessions) == 4
        assert (raised.value.sqlstate, raised.value.attempts) == ("40001", 4)
        assert raised.value.kind is ErrorKind.UNAVAILABLE
        assert isinstance(raised.value.__cause__, OperationalError)
        assert len(retry_records(retry_log)) == 3
        assert note_count(notes) == 0


class TestErrorsThatPropagateAtOnce:
    def test_an_integrity_error(
        self, notes: sessionmaker[Session], retry_log: pytest.LogCaptureFixture
    ) -> None:
        run_transaction(notes, FailingWork())
        work = FailingWork()
        with pytest.raises(IntegrityError):
            run_transaction(notes, work)
        assert len(work.sessions) == 1
        assert retry_records(retry_log) == []

    def test_a_domain_error(
        self, notes: sessionmaker[Session], retry_log: pytest.LogCaptureFixture
    ) -> None:
        work = FailingWork(Conflict("already finalised"))
        with pytest.raises(Conflict):
            run_transaction(notes, work)
        assert len(work.sessions) == 1
        assert note_count(notes) == 0
        assert retry_records(retry_log) == []

    def test_an_unreachable_database(
        self, notes: sessionmaker[Session], retry_log: pytest.LogCaptureFixture
    ) -> None:
        """No SQLSTATE, no retry: the request layer answers 503 for it (scenario 19)."""
        work = FailingWork(injected(psycopg.OperationalError))
        with pytest.raises(OperationalError):
            run_transaction(notes, work)
        assert len(work.sessions) == 1
        assert retry_records(retry_log) == []


@pytest.mark.parametrize("retry", [1, 2, 3, 4, 5])
def test_backoff_is_full_jitter_under_an_exponential_cap(retry: int) -> None:
    policy = RetryPolicy(base_delay=0.020, max_delay=0.200)
    ceiling = min(0.200, 0.020 * 2 ** (retry - 1))
    delays = [backoff_delay(retry, policy) for _ in range(200)]
    assert all(0 <= d <= ceiling for d in delays)
    assert max(delays) - min(delays) > ceiling / 4


# --- the races, on PostgreSQL at SERIALIZABLE and REPEATABLE READ ----------------------------

SERIALIZABLE: IsolationLevel = "SERIALIZABLE"
REPEATABLE_READ: IsolationLevel = "REPEATABLE READ"
READ_COMMITTED: IsolationLevel = "READ COMMITTED"
LEVELS = (SERIALIZABLE, REPEATABLE_READ)
ALL_LEVELS = (READ_COMMITTED, *LEVELS)
POOL_SIZE = 200


@dataclass(frozen=True)
class World:
    """One migrated PostgreSQL database, a transaction factory per isolation level, and a pool
    of centres and a published questionnaire that each test's campaigns reuse (centres are the
    slow part to build)."""

    url: str
    factories: dict[IsolationLevel, sessionmaker[Session]]
    centre_ids: list[int]
    version_id: int


@dataclass(frozen=True)
class Wave:
    """An open campaign: every centre of it may submit the questionnaire once."""

    campaign_id: int
    centre_ids: list[int]
    version_id: int


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with fresh_postgres_database("accessgap_retry") as url:
        migrate.upgrade(url)
        engines = [make_engine(url, pool_size=25, isolation_level=level) for level in ALL_LEVELS]
        factories = {
            level: make_session_factory(engine)
            for level, engine in zip(ALL_LEVELS, engines, strict=True)
        }

        def build(session: Session) -> tuple[list[int], int]:
            seed_countries(session)
            centres = [make_centre(session, name=f"Centre {n}") for n in range(POOL_SIZE)]
            return [c.id for c in centres], make_published_form(session).id

        centre_ids, version_id = run_transaction(factories[SERIALIZABLE], build)
        yield World(url, factories, centre_ids, version_id)
        for engine in engines:
            engine.dispose()


def open_wave(world: World, centres: int = 1) -> Wave:
    """A new campaign over pooled centres, so that no earlier test's response is in the way."""
    slug = f"wave-{uuid.uuid4().hex[:8]}"

    def build(session: Session) -> int:
        campaign = make_campaign(
            session,
            slug=slug,
            centres=[session.get_one(Centre, i) for i in world.centre_ids[:centres]],
            versions=[session.get_one(QuestionnaireVersion, world.version_id)],
        )
        return campaign.id

    campaign_id = run_transaction(world.factories[SERIALIZABLE], build)
    return Wave(campaign_id, world.centre_ids[:centres], world.version_id)


def run_parallel(count: int, work: Callable[[int], T]) -> list[T | Exception]:
    """``work(0)`` ... ``work(count - 1)`` in threads released together; errors are returned."""
    results: list[T | Exception] = [RuntimeError("not run")] * count
    barrier = threading.Barrier(count)

    def target(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:  # every outcome is collected and checked
            results[index] = exc

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def submit_through_retries(
    factory: sessionmaker[Session],
    wave: Wave,
    centre_id: int,
    submission_uuid: str,
    answers: dict[str, Any],
) -> str:
    """What a request handler does: one ``run_transaction`` around one service call."""

    def work(session: Session) -> str:
        outcome = submission.submit(
            session,
            submission_uuid=submission_uuid,
            campaign=session.get_one(Campaign, wave.campaign_id),
            centre=session.get_one(Centre, centre_id),
            version=session.get_one(QuestionnaireVersion, wave.version_id),
            answers=answers,
            now=NOW,
            actor="test",
        )
        return "replay" if outcome.replay else "created"

    return run_transaction(factory, work)


def submitter(
    factory: sessionmaker[Session],
    wave: Wave,
    keys: list[str],
    answers: list[dict[str, Any]],
) -> Callable[[int], str]:
    """Client ``index`` finalising ``keys[index]`` with ``answers[index]`` for the first centre."""
    return lambda index: submit_through_retries(
        factory, wave, wave.centre_ids[0], keys[index], answers[index]
    )


def outcome(result: object) -> str:
    """``created``/``replay``, a domain error's code, or the repr of anything unexpected."""
    if isinstance(result, str):
        return result
    if isinstance(result, DomainError):
        return result.code
    return repr(result)


def submitted(factory: sessionmaker[Session], wave: Wave) -> list[str]:
    return run_transaction(
        factory,
        lambda s: list(
            s.scalars(
                select(Response.submission_uuid).where(
                    Response.campaign_id == wave.campaign_id, Response.status == "submitted"
                )
            )
        ),
    )


@pytest.mark.parametrize("level", LEVELS)
def test_each_engine_runs_at_its_level(world: World, level: IsolationLevel) -> None:
    shown = run_transaction(
        world.factories[level], lambda s: s.scalar(text("SHOW transaction_isolation"))
    )
    assert shown == level.lower()


@pytest.mark.parametrize(
    ("spelled", "level"),
    [("serializable", SERIALIZABLE), ("repeatable_read", REPEATABLE_READ), ("", None)],
)
def test_the_app_engine_takes_its_level_from_the_environment(
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spelled: str,
    level: IsolationLevel | None,
) -> None:
    monkeypatch.setenv("ACCESSGAP_DATABASE_ISOLATION", spelled)
    settings = Settings(environment=Environment.TEST, database_url=world.url, data_dir=tmp_path)
    assert settings.database_isolation == level
    engine = create_app(settings).state.engine
    try:
        with engine.connect() as connection:
            shown = connection.scalar(text("SHOW transaction_isolation"))
    finally:
        engine.dispose()
    assert shown == (level or "READ COMMITTED").lower()


def test_an_unknown_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSGAP_DATABASE_ISOLATION", "read uncommitted")
    with pytest.raises(ValidationError, match="database_isolation"):
        Settings()


@pytest.mark.parametrize("level", LEVELS)
def test_scenario_3_twenty_identical_submissions_make_one_row(
    world: World, level: IsolationLevel, retry_log: pytest.LogCaptureFixture
) -> None:
    factory = world.factories[level]
    for _ in range(5):
        wave = open_wave(world)
        key = str(uuid.uuid4())
        results = run_parallel(20, submitter(factory, wave, [key] * 20, [ANSWERS] * 20))
        outcomes = [outcome(r) for r in results]
        assert outcomes.count("created") == 1, outcomes
        assert outcomes.count("replay") == 19, outcomes
        assert submitted(factory, wave) == [key]
    retries = retry_records(retry_log)
    assert retries, "no transaction was aborted: the race did not happen"
    assert set(sqlstates(retries)) <= {"40001", "40P01", "23505"}


@pytest.mark.parametrize("level", LEVELS)
def test_scenario_4_two_submissions_of_one_centre_give_one_success_and_one_conflict(
    world: World, level: IsolationLevel
) -> None:
    factory = world.factories[level]
    for _ in range(10):
        wave = open_wave(world)
        keys = [str(uuid.uuid4()), str(uuid.uuid4())]
        answers: list[dict[str, Any]] = [{"has_pet": "yes", "units": str(i)} for i in (1, 2)]
        results = run_parallel(2, submitter(factory, wave, keys, answers))
        assert sorted(outcome(r) for r in results) == ["already_finalised", "created"]
        assert len(submitted(factory, wave)) == 1


def start_draft(factory: sessionmaker[Session], wave: Wave) -> Callable[[int], Response]:
    """A respondent opening the questionnaire: the centre's draft, created on the first visit."""

    def work(session: Session) -> Response:
        return submission.start_draft(
            session,
            session.get_one(Campaign, wave.campaign_id),
            session.get_one(Centre, wave.centre_ids[0]),
            session.get_one(QuestionnaireVersion, wave.version_id),
            now=NOW,
        )

    return lambda _: run_transaction(factory, work)


def saver(factory: sessionmaker[Session], draft: Response) -> Callable[[int], str]:
    """Editor ``index`` saving the draft at the version both editors read."""

    def save(index: int) -> str:
        def work(session: Session) -> str:
            submission.save_draft(
                session,
                submission.get_response(session, draft.id),
                {"notes": f"editor {index}"},
                expected_version=draft.version,
                now=NOW,
            )
            return "saved"

        return run_transaction(factory, work)

    return save


@pytest.mark.parametrize("level", LEVELS)
def test_two_saves_of_one_draft_give_one_save_and_one_stale_version(
    world: World, level: IsolationLevel
) -> None:
    factory = world.factories[level]
    for _ in range(5):
        draft = start_draft(factory, open_wave(world))(0)
        results = run_parallel(2, saver(factory, draft))
        assert sorted(outcome(r) for r in results) == ["saved", "stale_version"]
        final = run_transaction(factory, partial(submission.get_response, response_id=draft.id))
        assert final.version == draft.version + 1


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_two_first_visits_of_one_centre_share_one_draft(
    world: World, level: IsolationLevel
) -> None:
    """Two first visits at the same moment: the partial unique index uq_response_one_draft lets
    one draft in; the other visit finds it (READ COMMITTED), or is retried on a new snapshot that
    sees it (REPEATABLE READ, SERIALIZABLE)."""
    factory = world.factories[level]
    for _ in range(10):
        results = run_parallel(2, start_draft(factory, open_wave(world)))
        ids = {r.id for r in results if isinstance(r, Response)}
        assert len(ids) == 1, results


def burst(factory: sessionmaker[Session], wave: Wave, keys: list[str]) -> list[str]:
    """Scenario 23's driver: 20 clients, each sending its share of distinct submissions."""
    clients = 20
    share = len(keys) // clients

    def client(index: int) -> list[str]:
        outcomes = []
        for n in range(index * share, (index + 1) * share):
            try:
                outcomes.append(
                    submit_through_retries(factory, wave, wave.centre_ids[n], keys[n], ANSWERS)
                )
            except DomainError as error:
                outcomes.append(error.code)
        return outcomes

    results = run_parallel(clients, client)
    assert [r for r in results if not isinstance(r, list)] == []
    return [o for r in results if isinstance(r, list) for o in r]


def test_scenario_23_a_burst_at_repeatable_read_stores_each_submission_once(
    world: World,
) -> None:
    factory = world.factories[REPEATABLE_READ]
    wave = open_wave(world, centres=POOL_SIZE)
    keys = [str(uuid.uuid4()) for _ in wave.centre_ids]
    assert burst(factory, wave, keys) == ["created"] * len(keys)
    assert sorted(submitted(factory, wave)) == sorted(keys)


def test_scenario_23_a_burst_at_serializable_stores_each_or_answers_busy(
    world: World, retry_log: pytest.LogCaptureFixture
) -> None:
    """At SERIALIZABLE unrelated submissions abort each other while the tables are small
    (their index reads and inserts share B-tree pages); some run out of retries. Each of those
    is the clean 503 ``database_busy`` with nothing written, and sent again, it is stored."""
    factory = world.factories[SERIALIZABLE]
    wave = open_wave(world, centres=POOL_SIZE // 2)
    keys = [str(uuid.uuid4()) for _ in wave.centre_ids]
    outcomes = burst(factory, wave, keys)
    assert set(outcomes) <= {"created", "database_busy"}
    created = [key for key, result in zip(keys, outcomes, strict=True) if result == "created"]
    assert sorted(submitted(factory, wave)) == sorted(created)
    for n, result in enumerate(outcomes):
        if result == "database_busy":
            sent_again = submit_through_retries(factory, wave, wave.centre_ids[n], keys[n], ANSWERS)
            assert sent_again == "created"
    assert sorted(submitted(factory, wave)) == sorted(keys)
    assert set(sqlstates(retry_records(retry_log))) <= {"40001", "40P01"}
