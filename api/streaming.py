"""A streamed response that fails as a problem document when it fails before its first byte.

Starlette's ``StreamingResponse`` sends the status line and headers before it asks its iterator
for anything, so an export whose first file cannot be written went out as ``200`` followed by a
dropped connection. :class:`CheckedStreamingResponse` asks for the first chunk first: an error
raised before it becomes an RFC 9457 problem (500 ``export_failed``, or the domain error's own
status) with the request id; an error after it can only break the stream, which the client sees
as a transfer without its end (and the manifest tells; see ``docs/exports.md``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from api import problems
from surveys.errors import DomainError

logger = logging.getLogger("accessgap.exports")
Chunk = TypeVar("Chunk")


async def _prepend(first: Chunk, rest: AsyncIterator[Chunk]) -> AsyncIterator[Chunk]:
    try:
        yield first
        async for chunk in rest:
            yield chunk
    finally:  # a stream cut short closes the iterator it wraps, as it would the original
        close = getattr(rest, "aclose", None)
        if close is not None:
            await close()


class CheckedStreamingResponse(StreamingResponse):
    """A ``StreamingResponse`` that produces its first chunk before it commits to a status."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rest = aiter(self.body_iterator)
        try:
            first = await anext(rest)
        except StopAsyncIteration:
            first = b""
        except Exception as exc:
            await self._problem(scope, exc)(scope, receive, send)
            return
        self.body_iterator = _prepend(first, rest)
        await super().__call__(scope, receive, send)

    @staticmethod
    def _problem(scope: Scope, exc: Exception) -> JSONResponse:
        request = Request(scope)
        if isinstance(exc, DomainError):
            return problems.from_domain_error(request, exc)
        logger.error(
            "export failed before its first byte (request %s)",
            getattr(request.state, "request_id", "-"),
            exc_info=exc,
        )
        return problems.problem_response(
            request,
            status=500,
            title="Export failed",
            detail="The export could not be produced and nothing was sent. Try again; if it "
            "fails again, report it with the request id.",
            code="export_failed",
        )
