"""One queue per SQLite file for the threads of a process that want its write lock.

SQLite lets one writer in at a time. A writer that finds the lock taken sleeps in its busy
handler and looks again (after 1, 2, 5, 10, ... up to 100 ms), so under load the lock often sits
free while every waiter sleeps, and a waiter can lose its turn again and again. Within one
process the threads can do better: they queue on a lock of their own before ``BEGIN IMMEDIATE``,
and the next one is woken the moment the previous transaction has ended. Between processes (two
gunicorn workers on one file) SQLite's busy handler still arbitrates, as before.

The queue is held from ``BEGIN IMMEDIATE`` until the connection goes back to the pool, after its
COMMIT or ROLLBACK has returned (SQLAlchemy's commit event fires *before* the COMMIT, so the
release waits for the check-in). Deferred (read-only) transactions never queue.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, event

HOLDS = "accessgap_sqlite_writer"


class WriterQueue:
    """The in-process turn for one SQLite file's write lock."""

    def __init__(self, wait_seconds: float) -> None:
        self._lock = threading.Lock()
        self.wait_seconds = wait_seconds

    def enter(self, info: dict[str, Any]) -> None:
        """Wait for the turn of this connection (``info`` is its pool record's dictionary).

        A connection that holds the turn already (a second transaction before check-in) keeps
        it. If the turn does not come within the busy timeout, SQLite's own wait takes over and
        reports "database is locked" the usual way (a 503 for the app).
        """
        if info.get(HOLDS) is self:
            return
        if self._lock.acquire(timeout=self.wait_seconds):
            info[HOLDS] = self

    def leave(self, info: dict[str, Any]) -> None:
        if info.pop(HOLDS, None) is self:
            self._lock.release()


def install(engine: Engine, wait_seconds: float) -> WriterQueue:
    """Queue the writing transactions of ``engine``; returns the queue (for tests)."""
    queue = WriterQueue(wait_seconds)

    # insert=True: runs before the listener of surveys.db that emits BEGIN IMMEDIATE.
    @event.listens_for(engine, "begin", insert=True)
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get("sqlite_deferred"):
            queue.enter(connection.info)

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        queue.leave(record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, record: Any, exception: Any) -> None:
        queue.leave(record.info)

    @event.listens_for(engine, "close")
    def _on_close(dbapi_connection: Any, record: Any) -> None:
        queue.leave(record.info)

    return queue
