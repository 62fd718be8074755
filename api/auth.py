"""Who is calling, and may they: sessions, API tokens, CSRF and the per-route access rules.

Every route declares its rule as a dependency, in one line::

    @router.get("/centres")
    def list_centres(actor: Annotated[Actor, Depends(Require(Permission.REGISTRY_READ))]): ...

or, for routes anyone may call, ``Depends(Public())`` (``Probe()`` for health checks that must
not touch the database; ``ByInvitation()`` for respondent routes under ``/r/`` and ``/i/``).
``tests/api/test_route_matrix.py`` reads these rules from ``app.routes`` and fails for a route
that has none, so a new route cannot slip through undeclared.

The rule resolves the actor once per request (bearer token first, then the session cookie),
checks the CSRF token on state-changing requests that came with a cookie, then the permission:
no actor is 401 (a JSON problem, or a redirect to ``/login`` for pages), a missing permission
is 403.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api import problems
from api.cookies import (
    CookieChange,
    CookieMiddleware,
    csrf_cookie_name,
    schedule_cookie,
    session_cookie_name,
)
from api.deps import AppSettings, DbSession
from api.settings import Settings
from surveys.accounts import sessions, tokens
from surveys.accounts.models import StaffSession, User
from surveys.policy import ANONYMOUS, Actor, Permission, PermissionDenied, staff_actor

logger = logging.getLogger("accessgap.security")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Paths served outside the routers (FastAPI's schema route and static mounts): public by design.
PUBLIC_PATHS = frozenset({"/openapi.json"})
PUBLIC_MOUNT_PREFIXES = ("/static", "/vendor/")
# Respondents come in by invitation under these prefixes (their routes use ByInvitation).
INVITATION_PREFIXES = ("/r/", "/i/")


def wants_json(request: Request) -> bool:
    """Errors as problem documents: for the API, and for a page's own background requests (the
    respondent autosave asks for JSON); people get HTML pages."""
    path = request.url.path
    if path.startswith(("/api/", "/health/")) or path == "/openapi.json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


# --- resolving the actor ----------------------------------------------------------------------


class NotAuthenticated(Exception):
    """No valid session or token: 401 for the API, a redirect to the sign-in page for pages."""


class CsrfFailed(Exception):
    """A state-changing request without the right CSRF token: 403."""


_bearer = HTTPBearer(auto_error=False, description="An API token (agt_...) issued on /account")


async def submitted_csrf_token(request: Request) -> str | None:
    """The CSRF token a state-changing request carries: header first, then the form field."""
    if request.method in SAFE_METHODS:
        return None
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


SubmittedCsrf = Annotated[str | None, Depends(submitted_csrf_token)]


def _idle(settings: Settings) -> dt.timedelta:
    return dt.timedelta(minutes=settings.session_idle_minutes)


def _actor_for(user: User, **kwargs: Any) -> Actor:
    return staff_actor(
        user_id=user.id,
        role=user.role,
        domains=user.domains,
        countries=user.countries,
        **kwargs,
    )


def resolve_actor(request: Request, session: Session, settings: Settings) -> Actor:
    """The actor of this request (computed once): bearer token, else session cookie, else nobody.

    Also sets ``request.state.csrf_token``: the session's token, or for visitors without a
    session the value of the CSRF cookie (issued on the first page they load).
    """
    state = request.state
    cached: Actor | None = getattr(state, "actor", None)
    if cached is not None:
        return cached
    actor = ANONYMOUS
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        token = tokens.find_token(session, value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            state.bad_credentials = True
        else:
            actor = _actor_for(
                token.user,
                via="token",
                token_id=token.id,
                scopes=list(token.scopes),
                campaigns=token.campaigns,
            )
    else:
        raw = request.cookies.get(session_cookie_name(settings))
        if raw:
            row = sessions.find_session(session, raw, idle=_idle(settings))
            if row is None:
                schedule_cookie(request, CookieChange(session_cookie_name(settings), None))
            elif row.stage == "full":
                actor = _actor_for(row.user, via="session")
                state.staff_session = row
                state.csrf_token = row.csrf_token
            else:
                state.pending_session = row
                state.csrf_token = row.csrf_token
        if getattr(state, "csrf_token", None) is None:
            cookie = request.cookies.get(csrf_cookie_name(settings))
            if cookie and 20 <= len(cookie) <= 100:
                state.csrf_token = cookie
            elif request.method in SAFE_METHODS and not wants_json(request):
                state.csrf_token = secrets.token_urlsafe(32)
                schedule_cookie(
                    request,
                    CookieChange(csrf_cookie_name(settings), state.csrf_token, samesite="strict"),
                )
    state.actor = actor
    return actor


def check_csrf(request: Request, actor: Actor, submitted: str | None) -> None:
    """Refuse a state-changing request whose CSRF token is missing or not this session's."""
    if request.method in SAFE_METHODS or actor.via == "token":
        return
    expected: str | None = getattr(request.state, "csrf_token", None)
    if not submitted or not expected or not hmac.compare_digest(submitted, expected):
        logger.warning(
            "CSRF check failed: %s %s (actor %s)", request.method, request.url.path, actor.label
        )
        raise CsrfFailed


# --- the rules routes declare ------------------------------------------------------------------


class AccessRule:
    """Base of the route rules; the route-matrix test finds them in every route's dependencies."""

    public: bool = False
    permission: Permission | None = None
    kind: str = "rule"

    def describe(self) -> str:
        return self.kind


class Require(AccessRule):
    """The route needs a signed-in actor holding ``permission`` (any signed-in actor if None)."""

    kind = "require"

    def __init__(self, permission: Permission | None = None) -> None:
        self.permission = permission

    def describe(self) -> str:
        return f"require {self.permission.value if self.permission else 'any signed-in user'}"

    def __call__(
        self,
        request: Request,
        session: DbSession,
        settings: AppSettings,
        submitted: SubmittedCsrf,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        actor = resolve_actor(request, session, settings)
        if not actor.is_authenticated:
            raise NotAuthenticated
        check_csrf(request, actor, submitted)
        if self.permission is not None and self.permission not in actor.permissions:
            logger.warning(
                "authorization denied: %s lacks %s for %s %s",
                actor.label,
                self.permission.value,
                request.method,
                request.url.path,
            )
            raise PermissionDenied(
                "Your account is not allowed to do this. Ask an administrator if you need it."
            )
        return actor


class Public(AccessRule):
    """Anyone may call the route; the actor is resolved (for the page header) and CSRF checked."""

    public = True
    kind = "public"

    def __call__(
        self,
        request: Request,
        session: DbSession,
        settings: AppSettings,
        submitted: SubmittedCsrf,
    ) -> Actor:
        actor = resolve_actor(request, session, settings)
        check_csrf(request, actor, submitted)
        return actor


class ByInvitation(Public):
    """Respondent routes (``/r/``, ``/i/``): public, the invitation token or its session decides."""

    kind = "invitation"


class Probe(AccessRule):
    """Health probes: public, and they must work without the database (no session opened)."""

    public = True
    kind = "probe"

    def __call__(self) -> Actor:
        return ANONYMOUS


def rules_of(dependant: Any) -> list[AccessRule]:
    """Every access rule in a route's dependency tree."""
    found: list[AccessRule] = []
    stack = [dependant]
    while stack:
        current = stack.pop()
        if isinstance(current.call, AccessRule):
            found.append(current.call)
        stack.extend(current.dependencies)
    return found


# --- one alias per permission: a route declares what it needs by its parameter's type ---------

SignedIn = Annotated[Actor, Depends(Require(None))]
PublicActor = Annotated[Actor, Depends(Public())]
AccountHolder = Annotated[Actor, Depends(Require(Permission.ACCOUNT))]
RegistryReader = Annotated[Actor, Depends(Require(Permission.REGISTRY_READ))]
RegistryWriter = Annotated[Actor, Depends(Require(Permission.REGISTRY_WRITE))]
ContactsReader = Annotated[Actor, Depends(Require(Permission.CONTACTS_READ))]
QuestionnaireReader = Annotated[Actor, Depends(Require(Permission.QUESTIONNAIRES_READ))]
QuestionnaireManager = Annotated[Actor, Depends(Require(Permission.QUESTIONNAIRES_MANAGE))]
CampaignManager = Annotated[Actor, Depends(Require(Permission.CAMPAIGNS_MANAGE))]
ResponseReader = Annotated[Actor, Depends(Require(Permission.RESPONSES_READ))]
ResponseEditor = Annotated[Actor, Depends(Require(Permission.RESPONSES_EDIT))]
MapReader = Annotated[Actor, Depends(Require(Permission.MAPS_READ))]
Exporter = Annotated[Actor, Depends(Require(Permission.EXPORT_PSEUDONYMISED))]
IdentifiedExporter = Annotated[Actor, Depends(Require(Permission.EXPORT_IDENTIFIED))]
TokenOwner = Annotated[Actor, Depends(Require(Permission.TOKENS_OWN))]
TokenManager = Annotated[Actor, Depends(Require(Permission.TOKENS_MANAGE))]
UserManager = Annotated[Actor, Depends(Require(Permission.USERS_MANAGE))]
AuditReader = Annotated[Actor, Depends(Require(Permission.AUDIT_READ))]
PrivacyOfficer = Annotated[Actor, Depends(Require(Permission.PRIVACY_MANAGE))]


# --- signing in and out ---------------------------------------------------------------------


def begin_session(
    request: Request,
    session: Session,
    settings: Settings,
    user: User,
    *,
    stage: str = "full",
    pending_totp_secret: str | None = None,
) -> StaffSession:
    """Start a session with a fresh id (ending the request's previous one) and set its cookie.

    Admins get a ``SameSite=Strict`` cookie; everyone else ``Lax``.
    """
    previous: StaffSession | None = getattr(request.state, "staff_session", None) or getattr(
        request.state, "pending_session", None
    )
    if previous is not None:
        sessions.end_session(session, previous)
    sessions.purge_expired_sessions(session, idle=_idle(settings))
    raw, row = sessions.start_session(
        session,
        user,
        absolute=dt.timedelta(hours=settings.session_absolute_hours),
        stage=stage,
        pending_totp_secret=pending_totp_secret,
    )
    schedule_cookie(
        request,
        CookieChange(
            session_cookie_name(settings),
            raw,
            samesite="strict" if user.role == "admin" else "lax",
        ),
    )
    request.state.csrf_token = row.csrf_token
    if stage == "full":
        request.state.staff_session = row
        request.state.pending_session = None
    else:
        request.state.pending_session = row
        request.state.staff_session = None
    return row


def end_request_session(request: Request, session: Session, settings: Settings) -> None:
    """Sign out: delete the session row and the cookie."""
    for name in ("staff_session", "pending_session"):
        row: StaffSession | None = getattr(request.state, name, None)
        if row is not None:
            sessions.end_session(session, row)
            setattr(request.state, name, None)
    schedule_cookie(request, CookieChange(session_cookie_name(settings), None))


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after sign-in; anything else (another site, ``//host``) is refused."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
        or len(target) > 500
    ):
        return default
    return target


# --- wiring into the app ---------------------------------------------------------------------


ErrorPage = Callable[[Request, int, str, str], Response]


def install(app: FastAPI, settings: Settings, *, render_error_page: ErrorPage) -> None:
    """Register the 401/CSRF handlers and the cookie middleware (called by the app factory).

    People get ``render_error_page`` (the pages' HTML error page, passed in by the factory so
    that this module needs no page code); API clients get problem details.
    """

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if wants_json(request):
            return problems.problem_response(
                request,
                status=401,
                title="Sign-in required",
                detail="Send a valid API token (Authorization: Bearer agt_...) or sign in.",
                code="not_authenticated",
                headers={"WWW-Authenticate": 'Bearer realm="accessgap"'},
            )
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(safe_next(target), safe='')}", 303)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        detail = (
            "The form has expired or did not come from this site. "
            "Go back, reload the page and submit it again."
        )
        if wants_json(request):
            return problems.problem_response(
                request,
                status=403,
                title="CSRF check failed",
                detail=detail + " API clients send the X-CSRF-Token header or use a token.",
                code="csrf_failed",
            )
        return render_error_page(request, 403, "The form could not be accepted", detail)

    app.add_middleware(CookieMiddleware, secure=settings.secure_cookies)
