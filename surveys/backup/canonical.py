"""The canonical content of a database: every table's rows in a driver-independent form.

A table's digest is the SHA-256 of its rows, one JSON line each, in primary-key order; the
backup's manifest records it for the snapshot, and a restore must reproduce it. Tables are read
by reflection, so the same functions serve any revision (the migration tests compare dumps
across revisions with them).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, MetaData, Table, inspect, select, text

from surveys.backup.errors import RestoreMismatch
from surveys.backup.schemas import TableDigest


def canonical_value(value: Any) -> Any:
    """One column value in a form that is the same whichever driver read it.

    Timestamps in UTC without zone, decimals and UUIDs as text, bytes as hex, and JSON kept as
    text (SQLite) parsed, so that its content is compared rather than its spacing.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def reflect(connection: Connection) -> MetaData:
    """The tables as they are in the database (any revision), not as the models declare them."""
    metadata = MetaData()
    metadata.reflect(connection)
    return metadata


def table_rows(
    connection: Connection, table: Table, columns: list[str] | None = None
) -> Iterator[list[Any]]:
    """A table's rows in canonical form, by primary key (all columns, or ``columns``)."""
    chosen = [table.c[name] for name in columns] if columns is not None else list(table.c)
    order = list(table.primary_key.columns) or chosen
    result = connection.execution_options(yield_per=1000).execute(select(*chosen).order_by(*order))
    for row in result:
        yield [canonical_value(value) for value in row]


def canonical_line(row: list[Any]) -> bytes:
    return (
        json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        + "\n"
    ).encode()


def table_digests(connection: Connection) -> dict[str, TableDigest]:
    """Per table: its row count and the SHA-256 of its canonical rows, one JSON line each."""
    metadata = reflect(connection)
    digests = {}
    for name in sorted(metadata.tables):
        digest, count = hashlib.sha256(), 0
        for row in table_rows(connection, metadata.tables[name]):
            digest.update(canonical_line(row))
            count += 1
        digests[name] = TableDigest(rows=count, sha256=digest.hexdigest())
    return digests


def revision_of(connection: Connection) -> str | None:
    """The Alembic revision of a snapshot (None for a database Alembic never migrated)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
    return None if revision is None else str(revision)


def verify_digests(expected: dict[str, TableDigest], found: dict[str, TableDigest]) -> None:
    """Raise :class:`RestoreMismatch` naming every table whose count or SHA-256 differs."""
    differing = sorted(
        name for name in expected.keys() | found.keys() if expected.get(name) != found.get(name)
    )
    if differing:
        raise RestoreMismatch(
            f"The restored database differs from the backup's snapshot in {len(differing)} "
            f"table(s): {', '.join(differing[:10])}."
        )
