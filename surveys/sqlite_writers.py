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
    """The in-process turn for one SQLite file's write lock, first come, first served.

    A plain lock wakes an arbitrary waiter, and under a burst some requests lost their turn
    again and again (a p99 several times the p50). Tickets keep the order of arrival.
    """

    def __init__(self, wait_seconds: float) -> None:
        self._turns = threading.Condition()
        self._next = 0  # the ticket the next arrival takes
        self._serving = 0  # the ticket whose turn it is
        self._abandoned: set[int] = set()
        self.wait_seconds = wait_seconds

    def enter(self, info: dict[str, Any]) -> None:
        """Wait for the turn of this connection (``info`` is its pool record's dictionary).

        A connection that holds the turn already (a second transaction before check-in) keeps
        it. If the turn does not come within the busy timeout, the ticket is given up and
        SQLite's own wait takes over, reporting "database is locked" the usual way (503).
        """
        if info.get(HOLDS) is self:
            return
        with self._turns:
            ticket = self._next
            self._next += 1
            if self._turns.wait_for(lambda: self._serving == ticket, self.wait_seconds):
                info[HOLDS] = self
                return
            if self._serving == ticket:  # pragma: no cover - came just as the wait ended
                info[HOLDS] = self
                return
            self._abandoned.add(ticket)

    def leave(self, info: dict[str, Any]) -> None:
        if info.pop(HOLDS, None) is not self:
            return
        with self._turns:
            self._serving += 1
            while self._serving in self._abandoned:
                self._abandoned.discard(self._serving)
                self._serving += 1
            self._turns.notify_all()


def install(engine: Engine, wait_seconds: float) -> WriterQueue:
    """A queue for the writing transactions of ``engine``, given back at check-in.

    The engine's ``begin`` listener (``surveys.db``) calls :meth:`WriterQueue.enter` right
    before ``BEGIN IMMEDIATE``: one listener, so the order of the two steps is not left to the
    order in which SQLAlchemy runs listeners.
    """
    queue = WriterQueue(wait_seconds)

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
