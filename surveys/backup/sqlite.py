"""SQLite snapshots: the online backup API out, a checked file copy in.

The online backup copies the live file within one read transaction (in WAL mode writers go on
meanwhile), so it is one committed state. The copy is switched to a rollback journal, so the
payload is one self-contained file with no ``-wal`` beside it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url

from surveys.backup.canonical import revision_of, table_digests, verify_digests
from surveys.backup.errors import BackupError, RestoreTargetNotEmpty
from surveys.backup.schemas import BackupManifest, TableDigest


def path_of(url: str | URL) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("Give the SQLite database as sqlite:///path/to/file.sqlite3.")
    return Path(database)


@contextmanager
def private_file_engine(path: Path) -> Iterator[Engine]:
    """A read-only engine on a SQLite file that no one else writes (a snapshot copy)."""
    engine = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False),
    )
    try:
        yield engine
    finally:
        engine.dispose()


def freeze(url: str, payload: Path) -> tuple[dict[str, TableDigest], str | None]:
    """Copy the live database into ``payload``; digest and revision of that copy."""
    source_path = path_of(url)
    if not source_path.is_file():
        raise BackupError(f"No SQLite database at {source_path}.")
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(payload)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()
    with private_file_engine(payload) as engine, engine.connect() as connection:
        return table_digests(connection), revision_of(connection)


def ensure_empty(url: str) -> None:
    """Refuse a target file that holds any table (a missing or zero-byte file is empty)."""
    path = path_of(url)
    journals = [
        p for p in (Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists() and p.stat().st_size
    ]
    tables: list[str] = []
    if path.exists() and path.stat().st_size:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            ]
        finally:
            connection.close()
    if tables or journals:
        raise RestoreTargetNotEmpty(
            f"{path} is not empty ({len(tables)} tables): restore into a new file."
        )


def restore(payload: Path, url: str, manifest: BackupManifest) -> None:
    """Check a copy of the payload against the manifest before it takes the target's name."""
    path = path_of(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".restoring")
    shutil.copyfile(payload, staged)
    try:
        with private_file_engine(staged) as engine, engine.connect() as connection:
            verify_digests(manifest.tables, table_digests(connection))
        with staged.open("rb") as handle:
            os.fsync(handle.fileno())
        for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        staged.replace(path)
    finally:
        staged.unlink(missing_ok=True)
