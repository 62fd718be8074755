"""What every page with a form shares: typed form fields, errors per field, rendering.

The staff pages (sign-in, account, admin, coordinator) and the respondent pages parse their
forms with these, so an error reads the same everywhere and the user's input comes back with it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from surveys.accounts.schemas import TokenCreate
from surveys.errors import DomainError
from web.templating import templates

FormErrors = dict[str, list[str]]
FormText = Annotated[str, Form()]
ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def validation_errors(exc: ValidationError) -> FormErrors:
    """Pydantic errors as messages per form field (``_`` for errors of the whole form)."""
    errors: FormErrors = {}
    for error in exc.errors():
        loc = error.get("loc") or ("_",)
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        errors.setdefault(str(loc[0]), []).append(message)
    return errors


def domain_errors(exc: DomainError) -> FormErrors:
    """A domain error as messages per form field."""
    errors: FormErrors = {}
    for error in exc.errors:
        errors.setdefault(str(error.loc[0]) if error.loc else "_", []).append(error.msg)
    return errors or {"_": [exc.detail]}


def render(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def request_id(request: Request) -> str | None:
    value: str | None = getattr(request.state, "request_id", None)
    return value


async def posted_form(request: Request) -> FormData:
    """The posted fields, read on the event loop, so the handler itself can run in a worker
    thread: its database work (and, on SQLite, the wait for the write lock) never blocks the loop
    that serves everybody else."""
    return await request.form()


# For forms whose fields are not known in advance (a questionnaire's answers).
PostedForm = Annotated[FormData, Depends(posted_form)]


def clean_text(value: str, limit: int) -> str:
    """Form text cut to a sane length, NUL characters removed (they are never meaningful here)."""
    return value.replace("\x00", "")[:limit]


# --- sign in --------------------------------------------------------------------------------


def token_form_data(
    name: str, scopes: list[str] | None, days: str, campaigns: str = ""
) -> dict[str, Any]:
    return {
        "name": clean_text(name, 200),
        "scopes": scopes or [],
        "days": clean_text(days, 10),
        "campaigns": clean_text(campaigns, 2000),
    }


def parse_token_form(form: dict[str, Any]) -> TokenCreate:
    """The token form as the use case takes it; ``campaigns`` is a comma- or space-separated
    list of campaign slugs (empty: every campaign the user may read)."""
    days = form["days"].strip() or "30"
    slugs = [s for s in form.get("campaigns", "").replace(",", " ").split() if s]
    return TokenCreate.model_validate(
        {"name": form["name"], "scopes": form["scopes"], "days": days, "campaigns": slugs or None}
    )
