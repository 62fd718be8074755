"""The lowest shared piece: declarative base, engine factory and session helpers.

Every model module imports :class:`Base` from here. The engine factory knows the two databases the
platform runs on: an embedded SQLite file (the default, under ``./var/``) and PostgreSQL through
psycopg 3 (production and scale-out).

SQLite choices (see ``docs/database.md``):

* ``journal_mode=WAL`` so readers never block the writer;
* ``synchronous=FULL``: a commit that was acknowledged survives a power loss, not only a crash;
* ``foreign_keys=ON``;
* ``busy_timeout=10000`` ms, so a writer waits for the lock instead of failing at once;
* every transaction starts with ``BEGIN IMMEDIATE``, which takes the write lock up front. A
  deferred transaction that reads and then writes can fail with "database is locked" when another
  writer got in between (the DEFERRED trap); taking the lock first makes writers queue instead.
  Read-only work can ask for a deferred transaction with the execution option
  ``sqlite_deferred=True``.

PostgreSQL runs at the driver's default, READ COMMITTED, unless a deployment asks for REPEATABLE
READ or SERIALIZABLE (``ACCESSGAP_DATABASE_ISOLATION``). At those levels the server may abort a
transaction with a serialization failure or a deadlock; :func:`surveys.retry.run_transaction`
runs it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from surveys import sqlite_writers

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000

IsolationLevel = Literal["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"]


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp stored in UTC on both databases.

    SQLite has no timezone type, so values come back naive there; this type makes them aware again
    and refuses naive values on the way in, so a local time can never be stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime in UTC")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with one naming convention, so constraint names match on both databases."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}  # noqa: RUF012 - SQLAlchemy's documented hook


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _prepare_sqlite_file(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Hand transaction control to SQLAlchemy: pysqlite would otherwise issue its own BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The journal mode is kept in the file: set it once, not on every new connection.
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    writers = sqlite_writers.install(engine, SQLITE_BUSY_TIMEOUT_MS / 1000)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("sqlite_deferred"):
            connection.exec_driver_sql("BEGIN")
        else:
            writers.enter(connection.info)
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def pool_capacity(pool_size: int) -> int:
    """How many connections an engine made with ``pool_size`` hands out at once (the pool and
    its overflow)."""
    return pool_size * 3


def make_engine(
    url: str | URL,
    *,
    echo: bool = False,
    pool_size: int = 5,
    isolation_level: IsolationLevel | None = None,
) -> Engine:
    """Create an engine for SQLite or PostgreSQL with the platform's settings.

    PostgreSQL URLs written as ``postgresql://`` are routed to psycopg 3. ``isolation_level``
    applies to PostgreSQL only (``None`` keeps the driver's READ COMMITTED): SQLite transactions
    are serializable whatever is asked, since writers queue behind ``BEGIN IMMEDIATE`` and each
    reader sees one WAL snapshot.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_file(parsed)
        in_memory = parsed.database in (None, "", ":memory:")
        # Every connection stays open (no overflow): a new one runs the PRAGMAs below, and under
        # a burst an overflow connection was opened and closed again for nearly every request.
        pool = {} if in_memory else {"pool_size": pool_capacity(pool_size), "max_overflow": 0}
        engine = create_engine(parsed, echo=echo, connect_args={"check_same_thread": False}, **pool)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
        isolation = {} if isolation_level is None else {"isolation_level": isolation_level}
        return create_engine(
            parsed,
            echo=echo,
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            pool_pre_ping=True,
            pool_timeout=10,
            **isolation,
        )
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. Used by the CLI and the app."""
    with factory() as session, session.begin():
        yield session
