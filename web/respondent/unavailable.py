"""A respondent's POST that meets an unreachable database (RELIABILITY.md scenario 19).

The answer is 503 with ``Retry-After``, and nothing typed is lost: the page carries every posted
field back, as hidden inputs of a form that posts them again to the same address ("Try again"),
and lists what was typed so it can be read or copied. It needs no database: the session, the
questionnaire and the draft are out of reach, so it shows the fields as the form sent them.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.requests import ClientDisconnect

from web.templating import templates

FORM_PATH_PREFIX = "/r/forms/"
CONTROL_FIELDS = frozenset({"csrf_token", "expected_version", "submission_uuid", "action"})


async def kept_answers_page(request: Request, retry_after: str) -> HTMLResponse | None:
    """The 503 page for a questionnaire POST, or ``None`` for any other request."""
    if request.method != "POST" or not request.url.path.startswith(FORM_PATH_PREFIX):
        return None
    try:
        form = await request.form()  # parsed already by the route; Starlette keeps it
    except (ClientDisconnect, RuntimeError, ValueError):
        return None
    fields = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    typed = [
        (name, value) for name, value in fields if name not in CONTROL_FIELDS and value.strip()
    ]
    response = templates.TemplateResponse(
        request,
        "respondent/unavailable.html",
        {"action": request.url.path, "fields": fields, "typed": typed},
        status_code=503,
    )
    response.headers["Retry-After"] = retry_after
    return response
