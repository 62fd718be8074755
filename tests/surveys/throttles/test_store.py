"""The throttle stores: the database (SQLite and PostgreSQL) and Redis count alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from surveys.db import utcnow
from surveys.throttles.models import ThrottleCounter
from surveys.throttles.store import DatabaseStore, Limit, ThrottleStore, purge_stale
from tests.redis_server import redis_prefix, redis_store

__all__ = ["redis_prefix"]  # the fixture, used by name

LIMIT = Limit(max_failures=3, window=dt.timedelta(minutes=1), block=dt.timedelta(minutes=5))
GROUP = "g" * 64


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[ThrottleStore]:
    if request.param == "database":
        yield DatabaseStore()
    else:
        yield redis_store(request.getfixturevalue("redis_prefix"))


def fail(store: ThrottleStore, session: Session, key: str, now: dt.datetime) -> int:
    return store.count_failure(session, key, LIMIT, group=GROUP, now=now).failures


class TestCountFailure:
    def test_the_limit_blocks_for_the_block_time_and_nothing_counts_meanwhile(
        self, store: ThrottleStore, session: Session
    ) -> None:
        now = utcnow()
        assert [fail(store, session, "a" * 64, now) for _ in range(2)] == [1, 2]
        third = store.count_failure(session, "a" * 64, LIMIT, group=GROUP, now=now)
        assert third.failures == 3
        assert third.blocked(now)
        assert third.seconds_left(now) == 300
        later = now + dt.timedelta(minutes=2)
        assert fail(store, session, "a" * 64, later) == 3  # blocked: not counted
        assert store.tally(session, "a" * 64, now=later).blocked(later)
        after = now + dt.timedelta(minutes=6)
        assert not store.tally(session, "a" * 64, now=after).blocked(after)
        again = store.count_failure(session, "a" * 64, LIMIT, group=GROUP, now=after)
        assert (again.failures, again.blocked(after)) == (1, False)

    def test_a_failure_after_the_window_starts_a_new_one(
        self, store: ThrottleStore, session: Session
    ) -> None:
        now = utcnow()
        fail(store, session, "b" * 64, now)
        fail(store, session, "b" * 64, now + dt.timedelta(seconds=30))
        assert fail(store, session, "b" * 64, now + dt.timedelta(seconds=61)) == 1
        tally = store.tally(session, "b" * 64, now=now)
        assert tally.window_started_at is not None
        assert abs(tally.window_started_at - (now + dt.timedelta(seconds=61))) < dt.timedelta(
            milliseconds=2
        )

    def test_forget_drops_a_group_and_reset_one_key(
        self, store: ThrottleStore, session: Session
    ) -> None:
        now = utcnow()
        for key in ("c" * 64, "d" * 64):
            fail(store, session, key, now)
        store.count_failure(session, "e" * 64, LIMIT, group="h" * 64, now=now)
        store.reset(session, "c" * 64)
        assert store.tally(session, "c" * 64, now=now).failures == 0
        assert store.forget(session, group=GROUP) == 1
        assert store.tally(session, "d" * 64, now=now).failures == 0
        assert store.tally(session, "e" * 64, now=now).failures == 1


def test_two_workers_count_into_one_database(
    session_factory: sessionmaker[Session],
) -> None:
    """Two sessions (as two workers would hold), committing in turn: one counter."""
    now = utcnow()
    store = DatabaseStore()
    for _ in range(2):
        for worker in (session_factory(), session_factory()):
            with worker, worker.begin():
                store.count_failure(worker, "f" * 64, LIMIT, group=GROUP, now=now)
    with session_factory() as session:
        tally = store.tally(session, "f" * 64, now=now)
    assert tally.failures == 3  # the fourth came while blocked
    assert tally.blocked(now)


def test_stale_counters_are_purged(session: Session) -> None:
    now = utcnow()
    store = DatabaseStore()
    store.count_failure(session, "s" * 64, LIMIT, group=GROUP, now=now - dt.timedelta(days=2))
    store.count_failure(session, "t" * 64, LIMIT, group=GROUP, now=now)
    assert purge_stale(session, now=now) == 1
    assert session.get(ThrottleCounter, "s" * 64) is None
    assert session.get(ThrottleCounter, "t" * 64) is not None


def test_two_redis_clients_share_one_counter(redis_prefix: str, session: Session) -> None:
    now = utcnow()
    first, second = redis_store(redis_prefix), redis_store(redis_prefix)
    fail(first, session, "r" * 64, now)
    fail(second, session, "r" * 64, now)
    assert store_tally(first, session, now) == 2


def store_tally(store: ThrottleStore, session: Session, now: dt.datetime) -> int:
    return store.tally(session, "r" * 64, now=now).failures
