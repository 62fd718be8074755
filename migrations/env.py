"""Alembic environment: runs revisions against the URL or connection the caller hands over.

``surveys.migrate`` passes either a ready connection (``config.attributes["connection"]``, as the
tests do) or a URL (``sqlalchemy.url``). SQLite revisions run in batch mode, because SQLite
cannot alter most constraints in place.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from surveys.db import make_engine
from surveys.models import Base

config = context.config
target_metadata = Base.metadata


QUEUE_PREFIX = "procrastinate_"
"""The job queue's own tables on PostgreSQL (revision 0012): not in our models, not drift."""


def _ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    table = getattr(obj, "table", None)
    owner = table.name if table is not None and type_ != "table" else name
    return not (reflected and compare_to is None and str(owner).startswith(QUEUE_PREFIX))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_ours,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "ACCESSGAP_DATABASE_URL", "sqlite:///var/accessgap.sqlite3"
    )
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # SQLite's way to alter a table (batch mode): copy it, drop the old one, rename.
                # With foreign keys on, dropping a table that other rows reference fails, so a
                # populated database could not be migrated. SQLite ignores this pragma inside a
                # transaction: it is set on the driver connection before the migration begins,
                # and the references are checked before the commit instead.
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            _run(conn)
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline SQL generation is not supported: run against a database.")
run_migrations_online()
