"""Sign-in, second factor, sign-out and the signed-in user's own account page.

Sign-in answers the same way whether the account exists or not (scenario 40): "Invalid e-mail
or password", 422 with the form again; too many failures answer 429 (surveys/accounts/signin.py).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.auth import (
    AccountHolder,
    PublicActor,
    SignedIn,
    TokenOwner,
    begin_session,
    end_request_session,
    safe_next,
)
from api.deps import AppSettings, DbSession, ThrottleGuard, source_address
from surveys.accounts import service as accounts
from surveys.accounts import signin, tokens, totp
from surveys.accounts.errors import WrongPassword
from surveys.accounts.models import StaffSession
from surveys.db import utcnow
from surveys.errors import DomainError
from surveys.policy import TOKEN_SCOPES, Actor, Permission
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

router = APIRouter(include_in_schema=False)

INVALID_LOGIN = "Invalid e-mail or password."
LOCKED_LOGIN = "Too many failed attempts: wait up to 15 minutes before you try again."


def _login_page(
    request: Request, *, email: str = "", next_path: str = "/", error: str = "", status: int = 200
) -> HTMLResponse:
    errors: FormErrors = {"_": [error]} if error else {}
    return render(
        request,
        "auth/login.html",
        {"form": {"email": email}, "errors": errors, "next": next_path},
        status=status,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, actor: PublicActor, next: str | None = None) -> Response:
    """The sign-in form (a signed-in user goes straight on)."""
    if actor.is_authenticated:
        return RedirectResponse(safe_next(next), 303)
    return _login_page(request, next_path=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    guard: ThrottleGuard,
    actor: PublicActor,
    email: FormText = "",
    password: FormText = "",
    next: FormText = "/",
) -> Response:
    """Check the password; then the second factor (or its set-up) when the account needs one."""
    next_path = safe_next(next)
    email = clean_text(email, 254).strip()
    result = signin.sign_in(
        session,
        actor,
        email=email,
        password=password[:1024],
        guard=guard,
        source=source_address(request),
        totp_required=settings.totp_required,
        request_id=request_id(request),
    )
    if result.locked:
        return _login_page_locked(request, email, next_path, result.retry_after)
    if result.user is None or result.outcome is not signin.LoginOutcome.SUCCESS:
        return _login_page(
            request, email=email, next_path=next_path, error=INVALID_LOGIN, status=422
        )
    begin_session(
        request,
        session,
        settings,
        result.user,
        stage=result.stage.value,
        pending_totp_secret=result.pending_totp_secret,
    )
    if result.stage is not signin.Stage.FULL:
        return RedirectResponse(f"/login/totp?next={_quoted(next_path)}", 303)
    return RedirectResponse(next_path, 303)


def _login_page_locked(
    request: Request, email: str, next_path: str, retry_after: int
) -> HTMLResponse:
    page = render(
        request,
        "auth/login.html",
        {
            "form": {"email": email},
            "errors": {"_": [INVALID_LOGIN, LOCKED_LOGIN]},
            "next": next_path,
        },
        status=429,
    )
    page.headers["Retry-After"] = str(retry_after)
    return page


def _quoted(path: str) -> str:
    return quote(path, safe="")


def _pending(request: Request) -> StaffSession | None:
    row: StaffSession | None = getattr(request.state, "pending_session", None)
    return row


def _totp_page(
    request: Request,
    row: StaffSession,
    *,
    next_path: str,
    errors: FormErrors | None = None,
    status: int = 200,
    action: str = "/login/totp",
) -> HTMLResponse:
    secret = row.pending_totp_secret
    return render(
        request,
        "auth/totp.html",
        {
            "enrol": row.stage == "enrol" or action != "/login/totp",
            "secret": secret,
            "uri": totp.provisioning_uri(secret, account=f"user {row.user_id}") if secret else "",
            "errors": errors or {},
            "next": next_path,
            "action": action,
        },
        status=status,
    )


@router.get("/login/totp", response_class=HTMLResponse)
def totp_form(request: Request, actor: PublicActor, next: str | None = None) -> Response:
    """The second step of signing in: the authenticator code (or setting one up)."""
    row = _pending(request)
    if row is None:
        return RedirectResponse("/login", 303)
    return _totp_page(request, row, next_path=safe_next(next))


@router.post("/login/totp", response_class=HTMLResponse)
def totp_submit(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    guard: ThrottleGuard,
    actor: PublicActor,
    code: FormText = "",
    next: FormText = "/",
) -> Response:
    """Check the code; on success the half-way session is replaced by a full one (new id)."""
    row = _pending(request)
    if row is None:
        return RedirectResponse("/login", 303)
    next_path = safe_next(next)
    result = signin.confirm_second_factor(
        session,
        actor,
        row,
        clean_text(code, 20),
        guard=guard,
        source=source_address(request),
        request_id=request_id(request),
    )
    if result.locked:
        end_request_session(request, session, settings)
        return _login_page_locked(request, "", next_path, result.retry_after)
    if result.user is None or result.outcome is not signin.LoginOutcome.SUCCESS:
        errors = {"code": ["The code is not valid; enter the current 6-digit code."]}
        return _totp_page(request, row, next_path=next_path, errors=errors, status=422)
    begin_session(request, session, settings, result.user)
    return RedirectResponse(next_path, 303)


@router.post("/logout")
def logout(
    request: Request, session: DbSession, settings: AppSettings, actor: SignedIn
) -> RedirectResponse:
    """Sign out: the session row is deleted, so the old cookie no longer works anywhere."""
    signin.sign_out(session, actor, request_id=request_id(request))
    end_request_session(request, session, settings)
    return RedirectResponse("/login", 303)


# --- the account page -----------------------------------------------------------------------


def _account_page(
    request: Request,
    session: DbSession,
    actor: Actor,
    *,
    password_errors: FormErrors | None = None,
    token_errors: FormErrors | None = None,
    token_form: dict[str, Any] | None = None,
    message: str = "",
    status: int = 200,
) -> HTMLResponse:
    assert actor.user_id is not None  # noqa: S101 - Require ensures it
    user = accounts.get_user(session, actor.user_id)
    own = tokens.list_tokens(session, actor, user_id=actor.user_id)
    role_scopes = sorted(s.value for s in TOKEN_SCOPES if s in actor.permissions)
    return render(
        request,
        "auth/account.html",
        {
            "user": accounts.to_read(user),
            "tokens": own,
            "show_owner": False,
            "owners": {},
            "now": utcnow(),
            "revoke_base": "/account/tokens",
            "can_tokens": Permission.TOKENS_OWN in actor.permissions,
            "scopes": role_scopes,
            "token_form": token_form or {"name": "", "scopes": [], "days": 30, "campaigns": ""},
            "token_errors": token_errors or {},
            "password_errors": password_errors or {},
            "message": message,
        },
        status=status,
    )


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, session: DbSession, actor: AccountHolder) -> HTMLResponse:
    """Your profile, password, second factor and API tokens."""
    return _account_page(request, session, actor)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: AccountHolder,
    current_password: FormText = "",
    new_password: FormText = "",
) -> Response:
    """Change your password; every other session of yours ends, this one gets a new id."""
    current: StaffSession = request.state.staff_session
    try:
        user = accounts.change_password(
            session,
            actor,
            current_password=current_password[:1024],
            new_password=new_password,
            keep_session=current.id,
            request_id=request_id(request),
        )
    except WrongPassword as exc:
        errors = {"current_password": [exc.detail]}
        return _account_page(request, session, actor, password_errors=errors, status=422)
    except DomainError as exc:
        errors = {"new_password": [e.msg for e in exc.errors] or [exc.detail]}
        return _account_page(request, session, actor, password_errors=errors, status=422)
    begin_session(request, session, settings, user)
    return _account_page(request, session, actor, message="Your password was changed.")


@router.post("/account/tokens", response_class=HTMLResponse)
def issue_own_token(
    request: Request,
    session: DbSession,
    actor: TokenOwner,
    name: FormText = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    days: FormText = "30",
    campaigns: FormText = "",
) -> HTMLResponse:
    """Issue yourself an API token; it is shown once, on the next page."""
    form = token_form_data(name, scopes, days, campaigns)
    try:
        data = parse_token_form(form)
        issued = tokens.issue(session, actor, data, request_id=request_id(request))
    except ValidationError as exc:
        errors = validation_errors(exc)
        return _account_page(
            request, session, actor, token_errors=errors, token_form=form, status=422
        )
    except DomainError as exc:
        return _account_page(
            request, session, actor, token_errors=domain_errors(exc), token_form=form, status=422
        )
    return render(
        request,
        "auth/token_issued.html",
        {"issued": issued, "owner": "you", "back": "/account"},
        status=201,
    )


@router.post("/account/tokens/{token_id}/revoke")
def revoke_own_token(
    request: Request, session: DbSession, actor: TokenOwner, token_id: ObjectId
) -> RedirectResponse:
    """Revoke one of your tokens (another user's token is "not found")."""
    tokens.revoke(session, actor, token_id, request_id=request_id(request))
    return RedirectResponse("/account", 303)


@router.get("/account/totp", response_class=HTMLResponse)
def totp_setup_form(request: Request, session: DbSession, actor: AccountHolder) -> Response:
    """Set up an authenticator: a new key is kept on this session until you confirm a code."""
    row: StaffSession = request.state.staff_session
    if not accounts.start_totp_setup(session, actor, row):
        return RedirectResponse("/account", 303)
    return _totp_page(request, row, next_path="/account", action="/account/totp")


@router.post("/account/totp", response_class=HTMLResponse)
def totp_setup_submit(
    request: Request, session: DbSession, actor: AccountHolder, code: FormText = ""
) -> Response:
    """Confirm the authenticator with a code; from then on, sign-in asks for one."""
    row: StaffSession | None = getattr(request.state, "staff_session", None)
    code = clean_text(code, 20)
    if accounts.confirm_totp_setup(session, actor, row, code, request_id=request_id(request)):
        return RedirectResponse("/account", 303)
    assert row is not None  # noqa: S101 - a refused code needs a pending key
    errors = {"code": ["The code is not valid; enter the current 6-digit code."]}
    return _totp_page(
        request, row, next_path="/account", action="/account/totp", errors=errors, status=422
    )
