"""PostgreSQL snapshots: ``pg_dump -Fc`` out, ``pg_restore`` in one transaction in.

The backup's transaction exports its snapshot (``pg_export_snapshot``), ``pg_dump`` reads that
very snapshot, and the manifest's digests are computed in the same transaction meanwhile: the
manifest describes exactly what the dump holds, whatever the app commits in between.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from surveys.backup.canonical import revision_of, table_digests, verify_digests
from surveys.backup.errors import BackupError, BackupToolMissing, RestoreTargetNotEmpty
from surveys.backup.schemas import BackupManifest, TableDigest
from surveys.db import make_engine

SNAPSHOT_READ = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


def client_url(url: str | URL) -> tuple[str, dict[str, str]]:
    """A URL for the PostgreSQL client tools, and an environment holding its password.

    The password goes through ``PGPASSWORD`` so that it never shows in the process list.
    """
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
        parsed = parsed.set(password=None)
    return parsed.render_as_string(hide_password=False), env


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupToolMissing(f"{name} was not found on PATH; install the PostgreSQL client.")
    return found


def freeze(url: str, payload: Path) -> tuple[dict[str, TableDigest], str | None]:
    """Dump the database into ``payload``; digests and revision of the dumped snapshot."""
    conninfo, env = client_url(url)
    pg_dump = tool("pg_dump")
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(**SNAPSHOT_READ) as connection:
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            dump = subprocess.Popen(  # noqa: S603 - a fixed tool, arguments from our settings
                [pg_dump, "-Fc", f"--snapshot={snapshot}", "-f", str(payload), "-d", conninfo],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                digests, revision = table_digests(connection), revision_of(connection)
            finally:
                _, errors = dump.communicate()
    finally:
        engine.dispose()
    if dump.returncode != 0:
        raise BackupError(f"pg_dump failed: {errors.strip()[-2000:]}")
    return digests, revision


def ensure_empty(url: str) -> None:
    """Refuse a target database that holds any relation outside the system schemas."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found = list(
                connection.scalars(
                    text(
                        "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                        "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' "
                        "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
                    )
                )
            )
    finally:
        engine.dispose()
    if found:
        raise RestoreTargetNotEmpty(
            f"The target database is not empty ({len(found)} relations, e.g. {found[0]}): "
            "restore into a new, empty database (createdb)."
        )


def restore(payload: Path, url: str, manifest: BackupManifest) -> None:
    """``pg_restore`` in one transaction (a failure leaves the database empty), then verify."""
    conninfo, env = client_url(url)
    command = [tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    command += ["--single-transaction", "-d", conninfo, str(payload)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[-2000:]}")
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(**SNAPSHOT_READ) as connection:
            found = table_digests(connection)
    finally:
        engine.dispose()
    verify_digests(manifest.tables, found)
