"""The in-process writer queue of a SQLite file (surveys/sqlite_writers.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from surveys import sqlite_writers
from surveys.db import SQLITE_BUSY_TIMEOUT_MS, make_engine

WAIT = 0.3  # long enough for a thread that is not blocked to have gone through


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    return engine


def _write_in_thread(engine: Engine, done: threading.Event) -> threading.Thread:
    def run() -> None:
        with engine.begin() as connection:
            connection.execute(text("UPDATE counter SET n = n + 1"))
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_second_writer_waits_for_the_first_to_end_then_goes_at_once(engine: Engine) -> None:
    done = threading.Event()
    with engine.connect() as first:
        first.begin()
        first.execute(text("UPDATE counter SET n = n + 10"))
        thread = _write_in_thread(engine, done)
        assert not done.wait(WAIT)  # queued behind the first writer, not failing
        first.commit()
    # Checked in: the second writer is woken, not left to poll SQLite's lock.
    assert done.wait(60)
    thread.join()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar() == 11


def test_a_reader_does_not_queue_behind_a_writer(engine: Engine) -> None:
    with engine.connect() as writer:
        writer.begin()
        writer.execute(text("UPDATE counter SET n = 5"))
        seen: list[int] = []

        def read() -> None:
            reading = engine.connect().execution_options(sqlite_deferred=True)
            with reading, reading.begin():
                seen.append(reading.execute(text("SELECT n FROM counter")).scalar_one())

        reader = threading.Thread(target=read)
        reader.start()
        # Not queued: a reader that queued would wait the writer queue's 10 s; half of that
        # is long enough for a loaded machine and still tells the two apart.
        reader.join(SQLITE_BUSY_TIMEOUT_MS / 1000 / 2)
        assert seen == [0]  # the snapshot before the writer's commit, without waiting for it
        writer.rollback()


def test_a_rolled_back_or_failed_transaction_gives_the_turn_back(engine: Engine) -> None:
    def fail() -> None:
        with engine.begin() as connection:
            connection.execute(text("UPDATE counter SET n = n + 1"))
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fail()
    done = threading.Event()
    _write_in_thread(engine, done).join(5)
    assert done.is_set()


def test_many_threads_reading_then_writing_lose_no_update(engine: Engine) -> None:
    threads, rounds = 8, 40
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(rounds):
                with engine.begin() as connection:
                    n = connection.execute(text("SELECT n FROM counter")).scalar_one()
                    connection.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar() == threads * rounds


def test_waiting_writers_get_their_turn_in_order_of_arrival(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queues: list[sqlite_writers.WriterQueue] = []
    install = sqlite_writers.install
    monkeypatch.setattr(
        sqlite_writers, "install", lambda *a: queues.append(install(*a)) or queues[-1]
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    order: list[int] = []

    def write(number: int) -> None:
        with engine.begin() as connection:
            connection.execute(text("UPDATE counter SET n = n + 1"))
            order.append(number)

    connections = [engine.connect() for _ in range(7)]  # opened ahead, as in a running server
    for connection in connections:
        connection.close()
    with engine.connect() as first:
        first.begin()
        first.execute(text("UPDATE counter SET n = 100"))
        waiting = []
        for number in range(6):
            thread = threading.Thread(target=write, args=(number,))
            thread.start()
            waiting.append(thread)
            # Each one queued before the next arrives: it has taken its ticket (the first
            # writer holds ticket 0), however long a loaded machine takes to get it there.
            deadline = time.monotonic() + 60
            while queues[0]._next < number + 2 and time.monotonic() < deadline:
                time.sleep(0.001)
        first.commit()
    for thread in waiting:
        thread.join(60)
    assert order == list(range(6))
