"""Admin pages of staff accounts: the list, creation, role and scope, deactivation, unlocking."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.auth import UserManager
from api.deps import DbSession, ThrottleGuard
from surveys.accounts import service as accounts
from surveys.accounts import signin
from surveys.accounts.models import User
from surveys.accounts.schemas import UserCreate, UserRoleChange
from surveys.db import utcnow
from surveys.domains import DOMAIN_NAMES, DOMAINS
from surveys.errors import DomainError
from surveys.policy import Role
from web.forms import (
    FormErrors,
    FormText,
    ObjectId,
    clean_text,
    domain_errors,
    render,
    request_id,
    validation_errors,
)

router = APIRouter(prefix="/admin", include_in_schema=False)

FormList = Annotated[list[str] | None, Form()]

ROLES = [r.value for r in Role]
DOMAIN_CHOICES = list(DOMAIN_NAMES.items())
NEW_USER_FORM = {
    "email": "",
    "display_name": "",
    "role": "coordinator",
    "domains": [],
    "countries": "",
}


def _role_form(role: str, domains: list[str] | None, countries: str) -> dict[str, Any]:
    return {
        "role": clean_text(role, 30),
        "domains": [clean_text(d, 40) for d in (domains or [])][: len(DOMAINS)],
        "countries": clean_text(countries, 300),
    }


def _role_payload(form: dict[str, Any]) -> dict[str, Any]:
    countries = [c for c in form["countries"].replace(",", " ").split() if c]
    return {"role": form["role"], "domains": form["domains"], "countries": countries}


def _with_scope_errors(errors: FormErrors) -> FormErrors:
    """Errors of the whole form (role and scope don't fit) shown at the domains."""
    if "_" in errors:
        errors.setdefault("domains", []).extend(errors.pop("_"))
    return errors


def _users_page(
    request: Request,
    session: DbSession,
    *,
    form: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/users.html",
        {
            "users": [accounts.to_read(u) for u in accounts.list_users(session)],
            "form": form or NEW_USER_FORM,
            "errors": errors or {},
            "roles": ROLES,
            "domain_choices": DOMAIN_CHOICES,
        },
        status=status,
    )


def _user_page(
    request: Request,
    user: User,
    *,
    form: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    read = accounts.to_read(user)
    return render(
        request,
        "admin/user.html",
        {
            "user": read,
            "form": form
            or {"role": read.role, "domains": read.domains, "countries": " ".join(read.countries)},
            "errors": errors or {},
            "roles": ROLES,
            "domain_choices": DOMAIN_CHOICES,
            "now": utcnow(),
        },
        status=status,
    )


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, session: DbSession, actor: UserManager) -> HTMLResponse:
    """Every account, and the form to create one."""
    return _users_page(request, session)


@router.post("/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    session: DbSession,
    actor: UserManager,
    email: FormText = "",
    display_name: FormText = "",
    password: FormText = "",
    role: FormText = "",
    domains: FormList = None,
    countries: FormText = "",
) -> Response:
    """Create an account with an initial password the person changes after signing in."""
    names = {"email": clean_text(email, 300), "display_name": clean_text(display_name, 300)}
    form = {**names, **_role_form(role, domains, countries)}
    try:
        payload = {**names, "password": password[:1024], **_role_payload(form)}
        data = UserCreate.model_validate(payload)
        user = accounts.create_user(session, actor, data, request_id=request_id(request))
    except ValidationError as exc:
        errors = _with_scope_errors(validation_errors(exc))
        return _users_page(request, session, form=form, errors=errors, status=422)
    except DomainError as exc:
        return _users_page(request, session, form=form, errors=domain_errors(exc), status=422)
    return RedirectResponse(f"/admin/users/{user.id}", 303)


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_detail(
    request: Request, session: DbSession, actor: UserManager, user_id: ObjectId
) -> HTMLResponse:
    """One account: role and scope, activity, lockout."""
    return _user_page(request, accounts.get_user(session, user_id))


@router.post("/users/{user_id}/role", response_class=HTMLResponse)
def change_role(
    request: Request,
    session: DbSession,
    actor: UserManager,
    user_id: ObjectId,
    role: FormText = "",
    domains: FormList = None,
    countries: FormText = "",
) -> Response:
    """Change a role or scope; the user's sessions end so the change applies at once."""
    user = accounts.get_user(session, user_id)
    form = _role_form(role, domains, countries)
    try:
        data = UserRoleChange.model_validate(_role_payload(form))
        accounts.change_role(session, actor, user_id, data, request_id=request_id(request))
    except ValidationError as exc:
        errors = _with_scope_errors(validation_errors(exc))
        return _user_page(request, user, form=form, errors=errors, status=422)
    except DomainError as exc:
        return _user_page(request, user, form=form, errors=domain_errors(exc), status=422)
    return RedirectResponse(f"/admin/users/{user.id}", 303)


@router.post("/users/{user_id}/active", response_class=HTMLResponse)
def set_active(
    request: Request,
    session: DbSession,
    actor: UserManager,
    user_id: ObjectId,
    active: FormText = "",
) -> Response:
    """Deactivate (its sessions end at once) or reactivate an account."""
    user = accounts.get_user(session, user_id)
    try:
        accounts.set_active(
            session, actor, user_id, active=active == "yes", request_id=request_id(request)
        )
    except DomainError as exc:
        return _user_page(request, user, errors=domain_errors(exc), status=422)
    return RedirectResponse(f"/admin/users/{user.id}", 303)


@router.post("/users/{user_id}/unlock")
def unlock_user(
    request: Request,
    session: DbSession,
    guard: ThrottleGuard,
    actor: UserManager,
    user_id: ObjectId,
) -> RedirectResponse:
    """Lift every sign-in block of the account (from every address) before it ends."""
    user = signin.unlock_user(
        session,
        actor,
        user_id,
        guard=guard,
        request_id=request_id(request),
    )
    return RedirectResponse(f"/admin/users/{user.id}", 303)
