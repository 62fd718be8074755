"""Request dependencies: the settings, and one database transaction per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings


async def get_settings(request: Request) -> Settings:
    """Async only so that FastAPI calls it on the event loop: a sync dependency costs a trip
    through the thread pool on every request that needs it."""
    settings: Settings = request.app.state.settings
    return settings


def _session(request: Request) -> Iterator[Session]:
    """Open one transaction for the request: commit when the handler returns, roll back on error.

    The dependency has function scope, so the commit happens before the response is sent: a
    client never gets a success for a write that was not committed.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session, session.begin():
        yield session


DbSession = Annotated[Session, Depends(_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]
