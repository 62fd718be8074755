"""The HTML error page: the same domain errors as the API, rendered for people."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from web.templating import templates


def render_error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    """A plain page that says what went wrong, with the request id and no internals."""
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": title, "detail": detail},
        status_code=status,
    )
