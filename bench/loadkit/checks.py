"""What "nothing lost, nothing duplicated, nothing half-written" means, as queries.

Every check reads the database directly (not through the app), after the load or the fault.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import sqlite3
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, Table, func, select
from sqlalchemy.engine import make_url

from surveys.audit.models import AuditEvent
from surveys.campaigns.models import Campaign
from surveys.db import make_engine
from surveys.responses.models import FINAL_STATUSES, Response, ResponseVersion


@dataclass
class Ledger:
    """The submitted responses of a campaign and whether each is whole."""

    submitted: list[str] = field(default_factory=list)  # submission UUIDs, one per row
    drafts: set[str] = field(default_factory=set)
    without_version: list[str] = field(default_factory=list)
    without_finalize_audit: list[str] = field(default_factory=list)
    finalize_events: Counter[str] = field(default_factory=Counter)  # response id -> events

    @property
    def duplicates(self) -> list[str]:
        return [key for key, n in Counter(self.submitted).items() if n > 1]

    @property
    def half_written(self) -> list[str]:
        return self.without_version + self.without_finalize_audit


def ledger(url: str, slug: str) -> Ledger:
    """Every response of campaign ``slug``: submitted UUIDs, drafts, and incomplete ones.

    A submitted response is whole when it has its version row (number 1) and a
    ``response.finalize`` audit event: the three are written in one transaction, so a crash
    can leave all of them or none, never a part.
    """
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            campaign_id = connection.scalar(select(Campaign.id).where(Campaign.slug == slug))
            rows = connection.execute(
                select(Response.id, Response.submission_uuid, Response.status).where(
                    Response.campaign_id == campaign_id
                )
            ).all()
            versions = set(
                connection.scalars(
                    select(ResponseVersion.response_id).where(ResponseVersion.number == 1)
                )
            )
            events = Counter(
                connection.scalars(
                    select(AuditEvent.object_id).where(AuditEvent.action == "response.finalize")
                )
            )
    finally:
        engine.dispose()
    result = Ledger(finalize_events=events)
    for response_id, key, status in rows:
        if status not in FINAL_STATUSES:
            if status == "draft":
                result.drafts.add(key)
            continue
        result.submitted.append(key)
        if response_id not in versions:
            result.without_version.append(key)
        if events[str(response_id)] < 1:
            result.without_finalize_audit.append(key)
    return result


def count_submitted(url: str, slug: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            return int(
                connection.scalar(
                    select(func.count(Response.id))
                    .join(Campaign, Campaign.id == Response.campaign_id)
                    .where(Campaign.slug == slug, Response.status.in_(FINAL_STATUSES))
                )
                or 0
            )
    finally:
        engine.dispose()


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    assert database, url
    return Path(database)


def sqlite_health(path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    """``PRAGMA integrity_check`` (``['ok']`` when sound) and ``foreign_key_check`` rows."""
    connection = sqlite3.connect(path, timeout=30)
    try:
        integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        foreign = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    return integrity, foreign


# --- canonical content: dumps and digests ------------------------------------------------------


def _plain(value: Any) -> Any:
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
        try:  # JSON kept as text (SQLite): compare its content, not its spacing
            return json.loads(value)
        except ValueError:
            return value
    return value


def _rows(connection: Connection, table: Table, columns: list[str] | None) -> list[list[Any]]:
    chosen = [table.c[name] for name in columns] if columns is not None else list(table.c)
    order = list(table.primary_key.columns) or chosen
    return [
        [_plain(v) for v in row]
        for row in connection.execute(select(*chosen).order_by(*order)).all()
    ]


def dump(
    connection: Connection, *, only: dict[str, list[str]] | None = None
) -> dict[str, list[list[Any]]]:
    """Every table's rows (by primary key), in canonical form; ``only`` limits tables/columns.

    Tables are read by reflection, so the dump works at any revision.
    """
    metadata = MetaData()
    metadata.reflect(connection)
    tables = sorted(metadata.tables) if only is None else sorted(only)
    return {
        name: _rows(connection, metadata.tables[name], None if only is None else only[name])
        for name in tables
    }


def columns_by_table(connection: Connection) -> dict[str, list[str]]:
    metadata = MetaData()
    metadata.reflect(connection)
    return {name: [c.name for c in table.c] for name, table in sorted(metadata.tables.items())}


def digests(connection: Connection) -> dict[str, tuple[int, str]]:
    """Per table: row count and SHA-256 of its canonical rows."""
    return {
        name: (
            len(rows),
            hashlib.sha256(
                json.dumps(rows, sort_keys=True, default=str, ensure_ascii=False).encode()
            ).hexdigest(),
        )
        for name, rows in dump(connection).items()
    }


def digests_of(url: str) -> dict[str, tuple[int, str]]:
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            return digests(connection)
    finally:
        engine.dispose()
