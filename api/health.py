"""Liveness and readiness probes for the process supervisor and the reverse proxy."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from api.auth import Probe

router = APIRouter(prefix="/health", tags=["health"], dependencies=[Depends(Probe())])


@router.get("/live")
def live() -> dict[str, str]:
    """The process is up and serving requests."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "The database cannot be reached"}})
def ready(request: Request) -> JSONResponse:
    """The process can serve real work: the database answers."""
    engine: Engine = request.app.state.engine
    try:
        with engine.connect().execution_options(sqlite_deferred=True) as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ok", "database": "ok"})
