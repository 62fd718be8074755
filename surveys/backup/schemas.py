"""The manifest a backup carries: what its snapshot held, table by table."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from surveys.schemas import Schema

Backend = Literal["sqlite", "postgresql"]


class TableDigest(Schema):
    rows: int
    sha256: str


class BackupManifest(Schema):
    """What a backup holds: the snapshot's tables, counted and hashed, and its payload."""

    format_version: int
    backend: Backend
    created_at: dt.datetime
    revision: str | None
    tables: dict[str, TableDigest]
    payload_bytes: int
    payload_sha256: str

    @property
    def total_rows(self) -> int:
        return sum(table.rows for table in self.tables.values())
