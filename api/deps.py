"""Request dependencies: the settings, and one database transaction per request."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.settings import Settings
from surveys.campaigns import mail
from surveys.throttles.store import DatabaseStore, Guard, ThrottleStore, redis_store


async def get_settings(request: Request) -> Settings:
    """Async only so that FastAPI calls it on the event loop: a sync dependency costs a trip
    through the thread pool on every request that needs it."""
    settings: Settings = request.app.state.settings
    return settings


class SessionGate:
    """How many requests may hold a database session at once, in one process.

    Sync dependencies and handlers run in a pool of worker threads (40 by default). Without a
    gate, a burst can fill every thread with requests waiting for a connection or for SQLite's
    write lock, while the request that holds them cannot get a thread for its next step (the
    handler, then the commit): everything stalls until the timeouts answer 503 or 500. The gate
    is an asyncio semaphore, so requests beyond it wait on the event loop, holding no thread and
    no connection; its size is the connection pool's capacity, and at most half the threads.
    """

    def __init__(self, pool_capacity: int) -> None:
        self.pool_capacity = pool_capacity
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._by_loop = weakref.WeakKeyDictionary()

    def semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        found = self._by_loop.get(loop)
        if found is None:
            threads = int(anyio.to_thread.current_default_thread_limiter().total_tokens)
            found = asyncio.Semaphore(max(1, min(self.pool_capacity, threads // 2)))
            self._by_loop[loop] = found
        return found


def _finish(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def _session(request: Request) -> AsyncIterator[Session]:
    """Open one transaction for the request: commit when the handler returns, roll back on error.

    The dependency has function scope, so the commit happens before the response is sent: a
    client never gets a success for a write that was not committed. The commit and the close
    run in a worker thread (they wait for the disk); the session itself is opened lazily by its
    first query, inside whichever thread runs it.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    gate: SessionGate = request.app.state.session_gate
    async with gate.semaphore():
        session = factory()
        try:
            yield session
        except BaseException:
            await run_in_threadpool(_finish, session, commit=False)
            raise
        await run_in_threadpool(_finish, session, commit=True)


def throttle_guard(settings: Settings) -> Guard:
    """Where the sign-in and invitation throttles count: Redis when configured, else the
    database (docs/security.md, "Throttles"); keyed with the deployment's secret."""
    store: ThrottleStore = (
        redis_store(settings.redis_url) if settings.redis_url else DatabaseStore()
    )
    return Guard(store, settings.secret_key)


async def get_throttle_guard(request: Request) -> Guard:
    """The shared failure store of the sign-in and invitation throttles (built in the app
    factory). Async for the same reason as :func:`get_settings`."""
    guard: Guard = request.app.state.throttle_guard
    return guard


def source_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: what the proxy reports,
    when uvicorn or gunicorn is told to trust it; see docs/deploy.md)."""
    return request.client.host if request.client else "unknown"


DbSession = Annotated[Session, Depends(_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]
ThrottleGuard = Annotated[Guard, Depends(get_throttle_guard)]


async def get_outbox(request: Request) -> mail.Outbox:
    """Where just-issued invitation links go: the deployment's base URL and its SMTP relay (if
    any), from the settings. Async for the same reason as :func:`get_settings`."""
    settings: Settings = request.app.state.settings
    return mail.Outbox(
        base_url=settings.base_url,
        smtp=mail.smtp_config(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
        ),
    )


InvitationOutbox = Annotated[mail.Outbox, Depends(get_outbox)]
