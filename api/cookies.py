"""Cookies: their names, and the cookies that handlers and dependencies schedule for the response.

A handler or dependency never writes ``Set-Cookie`` itself: it schedules a :class:`CookieChange`
on the request and :class:`CookieMiddleware` applies every scheduled change to the response's
headers, so a cookie set while resolving the actor survives whatever response the route returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.settings import Settings

SESSION_COOKIE = "accessgap_session"
CSRF_COOKIE = "accessgap_csrf"


def session_cookie_name(settings: Settings) -> str:
    """``__Host-accessgap_session`` over HTTPS; plain ``accessgap_session`` over http (tests)."""
    return f"__Host-{SESSION_COOKIE}" if settings.secure_cookies else SESSION_COOKIE


def csrf_cookie_name(settings: Settings) -> str:
    return f"__Host-{CSRF_COOKIE}" if settings.secure_cookies else CSRF_COOKIE


@dataclass(frozen=True)
class CookieChange:
    name: str
    value: str | None  # None deletes the cookie
    samesite: str = "lax"
    max_age: int | None = None


def schedule_cookie(request: Request, change: CookieChange) -> None:
    """Ask :class:`CookieMiddleware` to set (or delete) a cookie on this request's response."""
    changes: list[CookieChange] = getattr(request.state, "cookie_changes", [])
    changes = [c for c in changes if c.name != change.name] + [change]
    request.state.cookie_changes = changes


class CookieMiddleware:
    """Writes the cookies scheduled during the request, with the flags this deployment needs.

    Every cookie is ``HttpOnly`` and ``Path=/``; over HTTPS also ``Secure`` (which the
    ``__Host-`` prefix requires). Dependencies can thus rotate or clear the session cookie
    whatever kind of response the route returns.
    """

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                changes: list[CookieChange] = scope.get("state", {}).get("cookie_changes", [])
                if changes:
                    headers = list(message.get("headers", []))
                    headers.extend((b"set-cookie", self._header(c).encode()) for c in changes)
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookies)

    def _header(self, change: CookieChange) -> str:
        parts = [f"{change.name}={change.value or ''}", "Path=/", "HttpOnly"]
        if change.value is None:
            parts.append("Max-Age=0")
        elif change.max_age is not None:
            parts.append(f"Max-Age={change.max_age}")
        parts.append(f"SameSite={change.samesite.capitalize()}")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)
