"""What "nothing lost, nothing duplicated, nothing half-written" means, as queries.

Every check reads the database directly (not through the app), after the load or the fault.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.engine import make_url

from surveys.audit.models import AuditEvent
from surveys.backup import TableDigest, reflect, table_digests, table_rows
from surveys.campaigns.models import Campaign
from surveys.db import make_engine
from surveys.responses.models import FINAL_STATUSES, Response, ResponseStatus, ResponseVersion


@dataclass
class Ledger:
    """The submitted responses of a campaign and whether each is whole."""

    submitted: list[str] = field(default_factory=list)  # submission UUIDs, one per row
    drafts: set[str] = field(default_factory=set)
    without_version: list[str] = field(default_factory=list)
    without_finalize_audit: list[str] = field(default_factory=list)
    answers_mismatch: list[str] = field(default_factory=list)  # no answers, or not the version's
    orphans: list[str] = field(default_factory=list)  # not submitted, yet a version or event
    finalize_events: Counter[str] = field(default_factory=Counter)  # response id -> events

    @property
    def duplicates(self) -> list[str]:
        return [key for key, n in Counter(self.submitted).items() if n > 1]

    @property
    def half_written(self) -> list[str]:
        return (
            self.without_version
            + self.without_finalize_audit
            + self.answers_mismatch
            + self.orphans
        )


def ledger(url: str, slug: str) -> Ledger:
    """Every response of campaign ``slug``: submitted UUIDs, drafts, and incomplete ones.

    A submitted response is whole when it has its answers, its version row (number 1) holding
    the same answers (same hash), and a ``response.finalize`` audit event: they are written in
    one transaction, so a crash can leave all of them or none, never a part.
    """
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            campaign_id = connection.scalar(select(Campaign.id).where(Campaign.slug == slug))
            rows = connection.execute(
                select(
                    Response.id,
                    Response.submission_uuid,
                    Response.status,
                    Response.answers,
                    Response.answers_hash,
                ).where(Response.campaign_id == campaign_id)
            ).all()
            versions: dict[int, str] = dict(
                connection.execute(
                    select(ResponseVersion.response_id, ResponseVersion.answers_hash).where(
                        ResponseVersion.number == 1
                    )
                ).all()
            )
            events = Counter(
                connection.scalars(
                    select(AuditEvent.object_id).where(AuditEvent.action == "response.finalize")
                )
            )
    finally:
        engine.dispose()
    result = Ledger(finalize_events=events)
    for response_id, key, status, answers, answers_hash in rows:
        if status not in FINAL_STATUSES:
            if status == ResponseStatus.DRAFT:
                result.drafts.add(key)
                if response_id in versions or events[str(response_id)] > 0:
                    result.orphans.append(key)
            continue
        result.submitted.append(key)
        if response_id not in versions:
            result.without_version.append(key)
        elif not answers or not answers_hash or versions[response_id] != answers_hash:
            result.answers_mismatch.append(key)
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


def dump(
    connection: Connection, *, only: dict[str, list[str]] | None = None
) -> dict[str, list[list[Any]]]:
    """Every table's rows (by primary key), in the canonical form the backup manifest hashes;
    ``only`` limits tables and columns. Tables are read by reflection, so any revision works."""
    tables = reflect(connection).tables
    names = sorted(tables) if only is None else sorted(only)
    return {
        name: list(table_rows(connection, tables[name], None if only is None else only[name]))
        for name in names
    }


def columns_by_table(connection: Connection) -> dict[str, list[str]]:
    return {
        name: [c.name for c in table.c]
        for name, table in sorted(reflect(connection).tables.items())
    }


def digests_of(url: str) -> dict[str, TableDigest]:
    """Per table: row count and SHA-256 of its canonical rows, as a backup's manifest has them."""
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            return table_digests(connection)
    finally:
        engine.dispose()
