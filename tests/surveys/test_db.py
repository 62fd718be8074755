from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from surveys import migrate
from surveys.audit.models import AuditEvent
from surveys.db import SQLITE_BUSY_TIMEOUT_MS, make_engine, make_session_factory, transaction
from surveys.registry.models import Centre


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'var' / 'db.sqlite3'}"
    migrate.upgrade(url)
    return make_engine(url)


class TestSqliteConfiguration:
    def test_pragmas(self, sqlite_engine: Engine) -> None:
        with sqlite_engine.connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") >= 5000
        assert SQLITE_BUSY_TIMEOUT_MS >= 5000

    def test_transactions_begin_immediate(self, sqlite_engine: Engine) -> None:
        statements: list[str] = []
        event.listen(
            sqlite_engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, *args: statements.append(statement),
        )
        with sqlite_engine.begin() as connection:
            connection.execute(text("SELECT 1"))
        assert statements[0] == "BEGIN IMMEDIATE"

    def test_the_file_is_created_under_its_folder(self, tmp_path: Path) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'db.sqlite3'}")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert (tmp_path / "a" / "b" / "db.sqlite3").exists()

    def test_read_then_write_from_two_threads_never_hits_database_is_locked(
        self, sqlite_engine: Engine
    ) -> None:
        factory = make_session_factory(sqlite_engine)
        with transaction(factory) as session:
            session.execute(
                text(
                    "INSERT INTO population (area_code, area_level, year, value, "
                    "source) VALUES ('XX', 'country', 2024, 0, 'test')"
                )
            )
        failures: list[BaseException] = []

        def work() -> None:
            for _ in range(100):
                try:
                    with transaction(factory) as session:
                        value = session.execute(
                            text("SELECT value FROM population WHERE area_code = 'XX'")
                        ).scalar_one()
                        session.execute(
                            text("UPDATE population SET value = :v WHERE area_code = 'XX'"),
                            {"v": value + 1},
                        )
                except DBAPIError as exc:  # pragma: no cover - the failure this test guards
                    failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        with transaction(factory) as session:
            final = session.execute(
                text("SELECT value FROM population WHERE area_code = 'XX'")
            ).scalar_one()
        assert final == 200  # no lost update either


class TestTimestamps:
    def test_come_back_timezone_aware_in_utc(self, session: Session) -> None:
        event = AuditEvent(actor="test", action="test.action")
        session.add(event)
        session.flush()
        session.expire(event)
        loaded = session.get(AuditEvent, event.id)
        assert loaded is not None
        assert loaded.at.tzinfo is not None
        assert loaded.at.utcoffset() == dt.timedelta(0)

    def test_naive_datetimes_are_refused(self, session: Session) -> None:
        session.add(AuditEvent(actor="t", action="a", at=dt.datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            session.flush()


class TestAuditLogIsAppendOnly:
    def test_update_and_delete_are_refused_by_the_database(self, session: Session) -> None:
        session.add(AuditEvent(actor="coordinator:1", action="centre.create"))
        session.flush()
        for statement in (
            "UPDATE audit_event SET actor = 'someone else'",
            "DELETE FROM audit_event",
        ):
            savepoint = session.begin_nested()
            with pytest.raises(DBAPIError, match="append-only"):
                session.execute(text(statement))
            savepoint.rollback()
        assert session.scalar(
            select(AuditEvent.actor).where(AuditEvent.action == "centre.create")
        ) == ("coordinator:1")


class TestIntegrityConstraints:
    def test_centre_coordinates_are_checked_by_the_database(self, session: Session) -> None:
        country_id = session.execute(text("SELECT id FROM country WHERE iso2 = 'FR'")).scalar_one()
        savepoint = session.begin_nested()
        session.add(
            Centre(name="x", country_id=country_id, latitude=91.0, longitude=0.0, accreditations=[])
        )
        with pytest.raises(DBAPIError):
            session.flush()
        savepoint.rollback()
