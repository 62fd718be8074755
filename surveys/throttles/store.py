"""Where failure counts live, so that every worker and every machine sees the same throttle.

Two stores behave alike (``tests/surveys/throttles/test_store.py`` runs one suite on both):

* :class:`DatabaseStore` (the default): the ``throttle_counter`` table, written in the
  request's own transaction, so a count commits with the outcome it belongs to. Each count is
  one atomic ``UPDATE … RETURNING`` (PostgreSQL locks the row; SQLite's writers queue), so
  concurrent failures from several workers are never lost.
* :class:`RedisStore` (``ACCESSGAP_REDIS_URL``): one hash per key, updated by a Lua script, which
  Redis runs atomically. It does not take part in the database transaction.

A counter counts failures within a window that starts at its first failure. When it reaches
``Limit.max_failures`` the key is blocked for ``Limit.block``; the next failure after the block
(or after the window) starts a new window. The clock is the application's (``now``), on both
stores, so the tests can move it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveys.db import UTCDateTime, utcnow
from surveys.throttles.models import ThrottleCounter

STALE_AFTER = dt.timedelta(days=1)
PURGE_ONE_IN = 20


@dataclass(frozen=True)
class Limit:
    """``max_failures`` within ``window`` block the key for ``block``."""

    max_failures: int
    window: dt.timedelta
    block: dt.timedelta


@dataclass(frozen=True)
class Tally:
    """A key's failures in its current window, and until when it is blocked (if it is)."""

    failures: int = 0
    window_started_at: dt.datetime | None = None
    blocked_until: dt.datetime | None = None

    def blocked(self, now: dt.datetime) -> bool:
        return self.blocked_until is not None and self.blocked_until > now

    def in_window(self, window: dt.timedelta, now: dt.datetime) -> int:
        """The failures that still count ``now`` (0 once the window has passed)."""
        if self.window_started_at is None or now - self.window_started_at > window:
            return 0
        return self.failures

    def window_end(self, window: dt.timedelta) -> dt.datetime | None:
        return None if self.window_started_at is None else self.window_started_at + window

    def seconds_left(self, now: dt.datetime, until: dt.datetime | None = None) -> int:
        """Whole seconds until ``until`` (default: the end of the block), at least 1."""
        end = until or self.blocked_until or now
        return max(1, int((end - now).total_seconds() + 0.999))


class ThrottleStore(Protocol):
    def tally(self, session: Session, key: str, *, now: dt.datetime) -> Tally:
        """The key's counter (an empty tally when it has none)."""

    def count_failure(
        self, session: Session, key: str, limit: Limit, *, group: str, now: dt.datetime
    ) -> Tally:
        """Count one failure (not while the key is blocked) and block the key at the limit."""

    def forget(self, session: Session, *, group: str) -> int:
        """Drop every counter of a group (an unlock); returns how many there were."""

    def reset(self, session: Session, key: str) -> None:
        """Drop one counter (a success wipes the failures that came before it)."""


@dataclass(frozen=True)
class Guard:
    """The shared failure store, and the secret that names accounts and addresses in it by keyed
    hashes (no address and no e-mail is ever stored)."""

    store: ThrottleStore
    secret: str


class DatabaseStore:
    """Counters in the ``throttle_counter`` table, in the caller's transaction."""

    def tally(self, session: Session, key: str, *, now: dt.datetime) -> Tally:
        row = session.execute(
            select(
                ThrottleCounter.failures,
                ThrottleCounter.window_started_at,
                ThrottleCounter.locked_until,
            ).where(ThrottleCounter.key_hash == key)
        ).first()
        return Tally() if row is None else Tally(row[0], row[1], row[2])

    def count_failure(
        self, session: Session, key: str, limit: Limit, *, group: str, now: dt.datetime
    ) -> Tally:
        self._ensure_row(session, key, group, now)
        at_now = literal(now, UTCDateTime())
        table = ThrottleCounter
        restart = or_(table.window_started_at < now - limit.window, table.locked_until.is_not(None))
        counted = session.execute(
            update(table)
            .where(
                table.key_hash == key,
                or_(table.locked_until.is_(None), table.locked_until <= now),
            )
            .values(
                failures=case((restart, 1), else_=table.failures + 1),
                window_started_at=case((restart, at_now), else_=table.window_started_at),
                locked_until=None,
            )
            .returning(table.failures, table.window_started_at)
            .execution_options(synchronize_session=False)
        ).first()
        if counted is None:  # blocked: nothing counts until the block is over
            return self.tally(session, key, now=now)
        failures, started = int(counted[0]), counted[1]
        blocked_until = None
        if failures >= limit.max_failures:
            blocked_until = now + limit.block
            session.execute(
                update(table)
                .where(table.key_hash == key)
                .values(locked_until=blocked_until)
                .execution_options(synchronize_session=False)
            )
        return Tally(failures, started, blocked_until)

    def forget(self, session: Session, *, group: str) -> int:
        result = session.execute(
            delete(ThrottleCounter)
            .where(ThrottleCounter.group_hash == group)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def reset(self, session: Session, key: str) -> None:
        session.execute(
            delete(ThrottleCounter)
            .where(ThrottleCounter.key_hash == key)
            .execution_options(synchronize_session=False)
        )

    def _ensure_row(self, session: Session, key: str, group: str, now: dt.datetime) -> None:
        values = {
            "key_hash": key,
            "group_hash": group,
            "failures": 0,
            "window_started_at": now,
            "locked_until": None,
        }
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else None
        statement: Any = (insert or sqlite.insert)(ThrottleCounter).values(**values)
        inserted = session.execute(statement.on_conflict_do_nothing())
        # Housekeeping on about one new key in twenty: stale counters block nothing, so they
        # only need to go eventually, and a burst of new keys should not scan the table each time.
        if getattr(inserted, "rowcount", 0) and secrets.randbelow(PURGE_ONE_IN) == 0:
            purge_stale(session, now=now)


def purge_stale(session: Session, *, now: dt.datetime | None = None) -> int:
    """Forget counters idle for a day that block nothing (housekeeping)."""
    now = now or utcnow()
    result = session.execute(
        delete(ThrottleCounter)
        .where(
            ThrottleCounter.window_started_at < now - STALE_AFTER,
            or_(ThrottleCounter.locked_until.is_(None), ThrottleCounter.locked_until < now),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# The same rules as DatabaseStore.count_failure, in one atomic step on the Redis server.
# KEYS: the counter, the group's set of counters. ARGV: now, window, max, block (milliseconds
# since the epoch / milliseconds), and how long to keep the keys.
_COUNT_FAILURE = """
local now = tonumber(ARGV[1])
local fields = redis.call('HMGET', KEYS[1], 'failures', 'started', 'locked')
local failures = tonumber(fields[1] or '0')
local started = tonumber(fields[2] or '0')
local locked = tonumber(fields[3] or '0')
if locked > now then
  return {failures, started, locked}
end
if started == 0 or now - started > tonumber(ARGV[2]) or locked > 0 then
  failures = 0
  started = now
  locked = 0
end
failures = failures + 1
if failures >= tonumber(ARGV[3]) then
  locked = now + tonumber(ARGV[4])
end
redis.call('HSET', KEYS[1], 'failures', failures, 'started', started, 'locked', locked)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SADD', KEYS[2], KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {failures, started, locked}
"""


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moment(ms: int) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC) if ms else None


class RedisStore:
    """Counters in Redis, for deployments that already run it (``ACCESSGAP_REDIS_URL``).

    ``client`` is a ``redis.Redis``; keys are ``{prefix}{key}`` and ``{prefix}group:{group}``.
    """

    def __init__(self, client: Any, *, prefix: str = "accessgap:throttle:") -> None:
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(_COUNT_FAILURE)

    def tally(self, session: Session, key: str, *, now: dt.datetime) -> Tally:
        failures, started, locked = self.client.hmget(
            self.prefix + key, ["failures", "started", "locked"]
        )
        if failures is None:
            return Tally()
        return Tally(int(failures), _moment(int(started)), _moment(int(locked)))

    def count_failure(
        self, session: Session, key: str, limit: Limit, *, group: str, now: dt.datetime
    ) -> Tally:
        keep = max(limit.window, limit.block) + dt.timedelta(minutes=1)
        failures, started, locked = self._script(
            keys=[self.prefix + key, self.prefix + "group:" + group],
            args=[
                _ms(now),
                int(limit.window.total_seconds() * 1000),
                limit.max_failures,
                int(limit.block.total_seconds() * 1000),
                int(keep.total_seconds() * 1000),
            ],
        )
        return Tally(int(failures), _moment(int(started)), _moment(int(locked)))

    def forget(self, session: Session, *, group: str) -> int:
        group_key = self.prefix + "group:" + group
        members = list(self.client.smembers(group_key))
        removed = int(self.client.delete(*members)) if members else 0
        self.client.delete(group_key)
        return removed

    def reset(self, session: Session, key: str) -> None:
        self.client.delete(self.prefix + key)


def redis_store(url: str, *, prefix: str = "accessgap:throttle:") -> RedisStore:
    """A :class:`RedisStore` for a ``redis://`` URL (the connection opens at first use)."""
    import redis  # imported here: only deployments that configure Redis need the client

    return RedisStore(
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), prefix=prefix
    )
