"""Whole-request retries for transactions that lost a race (RELIABILITY.md scenario 25).

Every request runs in one database transaction (``api.deps``), so the request *is* the unit of
work: when PostgreSQL reports a serialization failure (40001) or a deadlock (40P01), or a service
raises a :class:`surveys.retry.RetryableConflict`, the request is run again from the start, on a
new transaction, up to three more times with full-jitter backoff. Nothing outside the
transaction has happened yet (cookies and audit events belong to the attempt), so a retry is
invisible to the client, apart from the wait.

How it works: the error handlers answer such an error as usual (503 ``database_busy``, or the
domain error's 409) and mark the response with :data:`RETRY_HEADER`. This middleware, which
buffered the request body, swallows a marked response while attempts remain and runs the app
again; the last attempt's response goes out without the mark. Each retry is logged at INFO on
``accessgap.db.retry`` with its SQLSTATE, as :func:`surveys.retry.run_transaction` does.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from surveys.retry import DEFAULT_POLICY, RetryPolicy, backoff_delay

RETRY_HEADER = "x-accessgap-retry-sqlstate"
_RETRY_HEADER_BYTES = RETRY_HEADER.encode("latin-1")
logger = logging.getLogger("accessgap.db.retry")


def mark_retryable(response: Response, sqlstate: str) -> Response:
    """Ask :class:`TransactionRetryMiddleware` to run the request again, if it still may."""
    response.headers[RETRY_HEADER] = sqlstate
    return response


class TransactionRetryMiddleware:
    def __init__(self, app: ASGIApp, *, policy: RetryPolicy = DEFAULT_POLICY) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        attempts = self.policy.retries + 1
        for attempt in range(1, attempts + 1):
            retry_for = await self._attempt(scope, body, receive, send, last=attempt == attempts)
            if retry_for is None:
                return
            logger.info(
                "retrying %s %s after SQLSTATE %s (attempt %d of %d)",
                scope["method"],
                scope["path"],
                retry_for,
                attempt,
                attempts,
                extra={"sqlstate": retry_for, "attempt": attempt},
            )
            await asyncio.sleep(backoff_delay(attempt, self.policy))

    async def _attempt(
        self, scope: Scope, body: list[Message], receive: Receive, send: Send, *, last: bool
    ) -> str | None:
        """Run the app once; the SQLSTATE to retry for, or ``None`` once a response went out."""
        pending = list(body)
        retry_for: str | None = None

        async def replay() -> Message:
            return pending.pop(0) if pending else await receive()

        async def guarded_send(message: Message) -> None:
            nonlocal retry_for
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                marks = [v for k, v in headers if k.lower() == _RETRY_HEADER_BYTES]
                if marks and not last:
                    retry_for = marks[0].decode("latin-1")
                    return
                message = {
                    **message,
                    "headers": [(k, v) for k, v in headers if k.lower() != _RETRY_HEADER_BYTES],
                }
            if retry_for is None:
                await send(message)

        # A fresh request state per attempt: cookies scheduled by a failed attempt are dropped.
        attempt_scope = {**scope, "state": dict(scope.get("state") or {})}
        await self.app(attempt_scope, replay, guarded_send)
        return retry_for


async def _read_body(receive: Receive) -> list[Message]:
    """The request's body messages, kept to be replayed (the body-size limit applies first)."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages
