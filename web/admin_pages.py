"""Administration pages: users and roles, API tokens, the audit log, centre import, privacy.

Thin adapters like every page: parse the form, call one service, record the audit event in the
same transaction, render. Forms re-render with the input kept and errors next to each field (422).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.auth import AuditReader, PrivacyOfficer, RegistryWriter, TokenManager, UserManager
from api.deps import AppSettings, DbSession
from surveys import privacy
from surveys.accounts import service as accounts
from surveys.accounts import tokens
from surveys.accounts.errors import UserNotFound
from surveys.accounts.models import User
from surveys.accounts.schemas import UserCreate, UserRoleChange
from surveys.audit import service as audit
from surveys.db import utcnow
from surveys.domains import DOMAIN_NAMES, DOMAINS
from surveys.errors import DomainError
from surveys.policy import TOKEN_SCOPES, Actor, Role
from surveys.registry.transfer import import_centres
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

ROLES = [r.value for r in Role]
DOMAIN_CHOICES = list(DOMAIN_NAMES.items())
UPLOAD_SUFFIXES = frozenset({".csv", ".xlsx"})
AUDIT_PER_PAGE = 50


@router.get("", response_class=HTMLResponse)
def admin_index(request: Request, actor: AuditReader) -> HTMLResponse:
    """What an administrator or coordinator can manage from here."""
    return render(request, "admin/index.html", {"permissions": actor.permissions})


# --- users ----------------------------------------------------------------------------------


def _role_form(role: str, domains: list[str] | None, countries: str) -> dict[str, Any]:
    return {
        "role": clean_text(role, 30),
        "domains": [clean_text(d, 40) for d in (domains or [])][: len(DOMAINS)],
        "countries": clean_text(countries, 300),
    }


def _role_payload(form: dict[str, Any]) -> dict[str, Any]:
    countries = [c for c in form["countries"].replace(",", " ").split() if c]
    return {"role": form["role"], "domains": form["domains"], "countries": countries}


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
            "form": form
            or {
                "email": "",
                "display_name": "",
                "role": "coordinator",
                "domains": [],
                "countries": "",
            },
            "errors": errors or {},
            "roles": ROLES,
            "domain_choices": DOMAIN_CHOICES,
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
    form = {
        "email": clean_text(email, 300),
        "display_name": clean_text(display_name, 300),
        **_role_form(role, domains, countries),
    }
    try:
        data = UserCreate.model_validate(
            {
                "email": form["email"],
                "display_name": form["display_name"],
                "password": password[:1024],
                **_role_payload(form),
            }
        )
        user = accounts.create_user(session, data)
    except ValidationError as exc:
        errors = _with_scope_errors(validation_errors(exc))
        return _users_page(request, session, form=form, errors=errors, status=422)
    except DomainError as exc:
        return _users_page(request, session, form=form, errors=domain_errors(exc), status=422)
    audit.record(
        session,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        details={"role": user.role, "domains": user.domains, "countries": user.countries},
        request_id=request_id(request),
    )
    return RedirectResponse(f"/admin/users/{user.id}", 303)


def _with_scope_errors(errors: FormErrors) -> FormErrors:
    """Errors of the whole form (role and scope don't fit) shown at the domains."""
    if "_" in errors:
        errors.setdefault("domains", []).extend(errors.pop("_"))
    return errors


def _user_page(
    request: Request,
    session: DbSession,
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
            or {
                "role": read.role,
                "domains": read.domains,
                "countries": " ".join(read.countries),
            },
            "errors": errors or {},
            "roles": ROLES,
            "domain_choices": DOMAIN_CHOICES,
            "now": utcnow(),
        },
        status=status,
    )


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_detail(
    request: Request, session: DbSession, actor: UserManager, user_id: ObjectId
) -> HTMLResponse:
    """One account: role and scope, activity, lockout."""
    return _user_page(request, session, accounts.get_user(session, user_id))


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
        user, previous = accounts.change_role(session, user_id, data)
    except ValidationError as exc:
        errors = _with_scope_errors(validation_errors(exc))
        return _user_page(request, session, user, form=form, errors=errors, status=422)
    except DomainError as exc:
        errors = domain_errors(exc)
        return _user_page(request, session, user, form=form, errors=errors, status=422)
    audit.record(
        session,
        actor=actor,
        action="user.role_change",
        object_type="user",
        object_id=user.id,
        details={
            "from": previous,
            "to": user.role,
            "domains": user.domains,
            "countries": user.countries,
        },
        request_id=request_id(request),
    )
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
        user = accounts.set_active(session, user_id, active=active == "yes")
    except DomainError as exc:
        return _user_page(request, session, user, errors=domain_errors(exc), status=422)
    audit.record(
        session,
        actor=actor,
        action="user.activate" if user.active else "user.deactivate",
        object_type="user",
        object_id=user.id,
        request_id=request_id(request),
    )
    return RedirectResponse(f"/admin/users/{user.id}", 303)


@router.post("/users/{user_id}/unlock")
def unlock_user(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: UserManager,
    user_id: ObjectId,
) -> RedirectResponse:
    """Lift a sign-in lockout before its 15 minutes are over."""
    user = accounts.get_user(session, user_id)
    accounts.unlock(session, user, key=accounts.throttle_key(user.email, settings.secret_key))
    audit.record(
        session,
        actor=actor,
        action="user.unlock",
        object_type="user",
        object_id=user.id,
        request_id=request_id(request),
    )
    return RedirectResponse(f"/admin/users/{user.id}", 303)


# --- API tokens -----------------------------------------------------------------------------


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
            "token_form": form or {"name": "", "scopes": [], "days": 30, "user_id": ""},
            "token_errors": errors or {},
        },
        status=status,
    )


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
) -> HTMLResponse:
    """Issue a token for a user; the next page shows it once."""
    form = {**token_form_data(name, scopes, days), "user_id": clean_text(user_id, 12)}
    owner_id = int(form["user_id"]) if form["user_id"].isdigit() else 0
    try:
        if not 0 < owner_id < 2**31:
            raise UserNotFound("Choose the user the token is for.")
        owner = accounts.get_user(session, owner_id)
        issued = tokens.issue_token(session, owner, parse_token_form(form))
    except ValidationError as exc:
        errors = validation_errors(exc)
        return _tokens_page(request, session, actor, form=form, errors=errors, status=422)
    except DomainError as exc:
        errors = domain_errors(exc)
        if "_" in errors:
            errors["user_id"] = errors.pop("_")
        return _tokens_page(request, session, actor, form=form, errors=errors, status=422)
    audit.record(
        session,
        actor=actor,
        action="token.issue",
        object_type="api_token",
        object_id=issued.id,
        details={"token_name": issued.name, "scopes": issued.scopes, "for_user": owner.id},
        request_id=request_id(request),
    )
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
    token = tokens.revoke_token(session, actor, token_id)
    audit.record(
        session,
        actor=actor,
        action="token.revoke",
        object_type="api_token",
        object_id=token.id,
        details={"for_user": token.user_id},
        request_id=request_id(request),
    )
    return RedirectResponse("/admin/tokens", 303)


# --- audit log ------------------------------------------------------------------------------


def _day(value: str, field: str, errors: FormErrors) -> dt.datetime | None:
    text = value.strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        errors.setdefault(field, []).append("not a date; use YYYY-MM-DD")
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    session: DbSession,
    actor: AuditReader,
    action: Annotated[str, Query(max_length=60)] = "",
    actor_label: Annotated[str, Query(alias="actor", max_length=100)] = "",
    object_type: Annotated[str, Query(max_length=40)] = "",
    object_id: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The audit log, newest first, filtered by action prefix, actor, object and dates."""
    form = {
        "action": action,
        "actor": actor_label,
        "object_type": object_type,
        "object_id": object_id,
        "since": since,
        "until": until,
    }
    errors: FormErrors = {}
    start = _day(since, "since", errors)
    end = _day(until, "until", errors)
    filters = audit.AuditFilter(
        action=action or None,
        actor=actor_label or None,
        object_type=object_type or None,
        object_id=object_id or None,
        since=start,
        until=end + dt.timedelta(days=1) if end and end.year < 9999 else end,
    )
    result = audit.list_events(session, filters, page=page, per_page=AUDIT_PER_PAGE)
    return render(
        request,
        "admin/audit.html",
        {
            "result": result,
            "form": form,
            "errors": errors,
            "pages": max(1, -(-result.total // AUDIT_PER_PAGE)),
        },
        status=422 if errors else 200,
    )


# --- centre import --------------------------------------------------------------------------


@router.get("/centres/import", response_class=HTMLResponse)
def import_form(request: Request, actor: RegistryWriter) -> HTMLResponse:
    """Upload a centre list (CSV or XLSX); check it first with a dry run."""
    return render(request, "admin/import.html", {"errors": {}, "report": None, "dry_run": True})


def _upload_name_problem(filename: str) -> str | None:
    """Why an uploaded file's name is refused (folders, traversal, odd characters), or None."""
    if not filename:
        return "Choose a CSV or XLSX file to upload."
    if (
        "/" in filename
        or "\\" in filename
        or ".." in filename
        or "\x00" in filename
        or filename != PurePosixPath(filename).name
        or filename != PureWindowsPath(filename).name
        or any(ord(c) < 32 for c in filename)
    ):
        return "The file name must not contain folders or '..'; upload the file itself."
    if PurePosixPath(filename).suffix.lower() not in UPLOAD_SUFFIXES:
        return "Upload a .csv or .xlsx file."
    return None


@router.post("/centres/import", response_class=HTMLResponse)
def import_upload(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: RegistryWriter,
    file: Annotated[UploadFile | None, File()] = None,
    dry_run: FormText = "",
) -> Response:
    """Check, then (unless a dry run) import the uploaded centre list; all rows or none.

    The upload is stored under a name of our own in the upload directory (the client's file
    name is only checked and shown, never used as a path) and deleted after the import.
    """
    checking = dry_run == "yes"
    filename = (file.filename or "") if file is not None else ""
    problem = _upload_name_problem(filename)
    if problem is not None or file is None:
        return render(
            request,
            "admin/import.html",
            {
                "errors": {"file": [problem or "Choose a file."]},
                "report": None,
                "dry_run": checking,
            },
            status=422,
        )
    upload_dir = settings.upload_dir.resolve()
    upload_dir.mkdir(parents=True, exist_ok=True)
    target = upload_dir / f"{uuid.uuid4().hex}{PurePosixPath(filename).suffix.lower()}"
    if target.resolve().parent != upload_dir:  # pragma: no cover - the name is ours
        raise RuntimeError("upload path escaped the upload directory")
    try:
        with target.open("wb") as out:
            shutil.copyfileobj(file.file, out, 64 * 1024)
        report = import_centres(session, target, dry_run=checking)
    finally:
        target.unlink(missing_ok=True)
    if not checking and not report.errors:
        audit.record(
            session,
            actor=actor,
            action="centre.import",
            object_type="centre",
            details={"created": report.created, "updated": report.updated},
            request_id=request_id(request),
        )
    return render(
        request,
        "admin/import.html",
        {"errors": {}, "report": report, "dry_run": checking, "filename": filename},
        status=422 if report.errors else 200,
    )


# --- privacy (GDPR) -------------------------------------------------------------------------


def _privacy_page(
    request: Request,
    *,
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/privacy.html",
        {
            "catalogue": privacy.identifier_catalogue(),
            "errors": errors or {},
            "form": form or {"contact_id": "", "email": ""},
            "message": message,
        },
        status=status,
    )


@router.get("/privacy", response_class=HTMLResponse)
def privacy_page(request: Request, actor: PrivacyOfficer) -> HTMLResponse:
    """The identifier catalogue, erasure of a contact and the access-request export."""
    return _privacy_page(request)


@router.post("/privacy/erase", response_class=HTMLResponse)
def erase_contact(
    request: Request, session: DbSession, actor: PrivacyOfficer, contact_id: FormText = ""
) -> HTMLResponse:
    """Erase a contact's personal fields; the audit event names the fields, never the values."""
    text = clean_text(contact_id, 12).strip()
    form = {"contact_id": text, "email": ""}
    if not text.isdigit() or not 0 < int(text) < 2**31:
        errors = {"contact_id": ["Enter the contact's number, e.g. 42."]}
        return _privacy_page(request, errors=errors, form=form, status=422)
    try:
        contact, blanked = privacy.erase_contact(session, int(text))
    except DomainError as exc:
        errors = {"contact_id": [exc.detail]}
        return _privacy_page(request, errors=errors, form=form, status=422)
    audit.record(
        session,
        actor=actor,
        action="contact.erase",
        object_type="contact",
        object_id=contact.id,
        details={"fields": blanked, "centre_id": contact.centre_id},
        request_id=request_id(request),
    )
    return _privacy_page(request, message=f"Contact {contact.id} was erased.")


@router.post("/privacy/access", response_class=HTMLResponse)
def access_request(
    request: Request, session: DbSession, actor: PrivacyOfficer, email: FormText = ""
) -> Response:
    """Download everything held about one e-mail address, as JSON (GDPR Art. 15)."""
    address = clean_text(email, 254).strip().lower()
    if "@" not in address or len(address) < 3:
        errors = {"email": ["Enter the e-mail address the request is about."]}
        form = {"contact_id": "", "email": address}
        return _privacy_page(request, errors=errors, form=form, status=422)
    document = privacy.access_request(session, address)
    counts = {name: len(rows) for name, rows in document["tables"].items()}
    audit.record(
        session,
        actor=actor,
        action="privacy.access_export",
        object_type="data_subject",
        details={"rows": counts, "responses": len(document["responses"])},
        request_id=request_id(request),
    )
    body = json.dumps(document, ensure_ascii=False, indent=2, default=str)
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="access-request.json"',
            "Cache-Control": "no-store",
        },
    )
