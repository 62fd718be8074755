"""Admin pages of API tokens: every user's tokens (never their values), issuing and revoking."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.auth import TokenManager
from api.deps import DbSession
from surveys.accounts import service as accounts
from surveys.accounts import tokens
from surveys.accounts.errors import UserNotFound
from surveys.db import utcnow
from surveys.errors import DomainError
from surveys.policy import TOKEN_SCOPES, Actor
from web.forms import (
    FormErrors,
    FormText,
    ObjectId,
    clean_text,
    domain_errors,
    parse_token_form,
    render,
    request_id,
    token_form_data,
    validation_errors,
)

router = APIRouter(prefix="/admin", include_in_schema=False)

FormList = Annotated[list[str] | None, Form()]


def _tokens_page(
    request: Request,
    session: DbSession,
    actor: Actor,
    *,
    form: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    everyone = accounts.list_users(session)
    return render(
        request,
        "admin/tokens.html",
        {
            "tokens": tokens.list_tokens(session, actor),
            "owners": {u.id: f"{u.display_name} (#{u.id})" for u in everyone},
            "users": [u for u in everyone if u.active],
            "show_owner": True,
            "now": utcnow(),
            "revoke_base": "/admin/tokens",
            "scopes": sorted(s.value for s in TOKEN_SCOPES),
            "token_form": form
            or {"name": "", "scopes": [], "days": 30, "campaigns": "", "user_id": ""},
            "token_errors": errors or {},
        },
        status=status,
    )


def _owner_id(text: str) -> int:
    """The user id chosen in the form (a number in range, or the field's error)."""
    owner_id = int(text) if text.isdigit() else 0
    if not 0 < owner_id < 2**31:
        raise UserNotFound("Choose the user the token is for.")
    return owner_id


@router.get("/tokens", response_class=HTMLResponse)
def tokens_list(request: Request, session: DbSession, actor: TokenManager) -> HTMLResponse:
    """Every API token (never their values), and the form to issue one for a user."""
    return _tokens_page(request, session, actor)


@router.post("/tokens", response_class=HTMLResponse)
def issue_token(
    request: Request,
    session: DbSession,
    actor: TokenManager,
    user_id: FormText = "",
    name: FormText = "",
    scopes: FormList = None,
    days: FormText = "30",
    campaigns: FormText = "",
) -> HTMLResponse:
    """Issue a token for a user; the next page shows it once."""
    form = {**token_form_data(name, scopes, days, campaigns), "user_id": clean_text(user_id, 12)}
    try:
        owner_id = _owner_id(form["user_id"])
        data = parse_token_form(form)
        issued = tokens.issue(
            session, actor, data, owner_id=owner_id, request_id=request_id(request)
        )
    except ValidationError as exc:
        errors = validation_errors(exc)
        return _tokens_page(request, session, actor, form=form, errors=errors, status=422)
    except DomainError as exc:
        errors = domain_errors(exc)
        if "_" in errors:
            errors["user_id"] = errors.pop("_")
        return _tokens_page(request, session, actor, form=form, errors=errors, status=422)
    owner = accounts.get_user(session, issued.user_id)
    return render(
        request,
        "auth/token_issued.html",
        {"issued": issued, "owner": f"{owner.display_name} (#{owner.id})", "back": "/admin/tokens"},
        status=201,
    )


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, session: DbSession, actor: TokenManager, token_id: ObjectId
) -> RedirectResponse:
    """Revoke any user's token; it stops working at once."""
    tokens.revoke(session, actor, token_id, request_id=request_id(request))
    return RedirectResponse("/admin/tokens", 303)
