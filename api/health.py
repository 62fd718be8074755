"""Liveness and readiness probes for the process supervisor and the reverse proxy."""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from api.auth import Probe
from api.problems import RETRY_AFTER_SECONDS
from surveys.db import SQLITE_BUSY_TIMEOUT_MS

router = APIRouter(prefix="/health", tags=["health"], dependencies=[Depends(Probe())])


@router.get("/live")
def live() -> dict[str, str]:
    """The process is up and serving requests."""
    return {"status": "ok"}


# How long the write probe waits for SQLite's write lock. A writer that holds it longer is a
# writer at work: the probe then counts the database as writable rather than wait its turn.
SQLITE_PROBE_BUSY_MS = 200


def _sqlite_write_problem(engine: Engine) -> str | None:
    """Commit the smallest write there is on SQLite: ``user_version`` set to its own value.

    One WAL frame, no table, no row; it fails as a submission would on a full disk, a read-only
    file or a broken WAL, while reads still work.
    """
    try:
        raw = engine.raw_connection()
    except SQLAlchemyError:
        return "unreachable"
    try:
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_PROBE_BUSY_MS}")
        try:
            cursor.execute("BEGIN IMMEDIATE")
            version = int(cursor.execute("PRAGMA user_version").fetchone()[0])
            cursor.execute(f"PRAGMA user_version = {version}")
            cursor.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if raw.driver_connection is not None and raw.driver_connection.in_transaction:
                cursor.execute("ROLLBACK")
            if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:
                return None
            return "not writable"
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    except sqlite3.Error:
        return "not writable"
    finally:
        raw.close()
    return None


def _database_problem(engine: Engine) -> str | None:
    """What stops the database from serving real work, or None when it serves.

    Every database must answer a read. SQLite must also take a write: a full disk or a
    read-only file leave reads working while every submission fails.
    """
    try:
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "unreachable"
    if engine.dialect.name == "sqlite":
        return _sqlite_write_problem(engine)
    return None


@router.get("/ready", responses={503: {"description": "The database cannot serve requests"}})
def ready(request: Request) -> JSONResponse:
    """The process can serve real work: the database answers (and on SQLite, takes a write)."""
    problem = _database_problem(request.app.state.engine)
    if problem is not None:
        return JSONResponse(
            {"status": "unavailable", "database": problem},
            status_code=503,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    return JSONResponse({"status": "ok", "database": "ok"})
