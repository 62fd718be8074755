"""gzip for pages, JSON and CSV; streamed exports go out byte for byte.

Starlette's ``GZipMiddleware`` compresses a response when the client accepts gzip and the body
is at least :data:`MINIMUM_BYTES`, and leaves alone the formats that are compressed already
(ZIP, PNG; PDF added here: its streams are deflated). A map page shrinks four- to fivefold.

The streamed exports are not compressed. Their manifest vouches for the bytes sent (size and
SHA-256), a cut transfer shows as an incomplete chunked read, and the plain CSV is checked as
it arrives (``tests/reliability/test_export_truncation.py``); most of them are ZIP files anyway.
"""

from __future__ import annotations

from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

MINIMUM_BYTES = 1024
"""Smaller responses go out as they are: compressing a kilobyte saves less than it costs."""
LEVEL = 6
"""zlib's default: most of level 9's gain for a fraction of its time."""
UNCOMPRESSED_PATHS = ("/api/v1/exports/", "/api/v1/releases/")
"""The streamed exports and release downloads (their manifests are small anyway)."""


class CompressionMiddleware:
    """gzip when the client accepts it, except under :data:`UNCOMPRESSED_PATHS`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(
            app,
            minimum_size=MINIMUM_BYTES,
            compresslevel=LEVEL,
            exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf"),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not str(scope.get("path", "")).startswith(
            UNCOMPRESSED_PATHS
        ):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
