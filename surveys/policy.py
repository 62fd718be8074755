"""Who may do what: the one authorization policy every route, page and command asks.

Deny by default. A role grants a set of permissions (:data:`ROLE_PERMISSIONS`); an API token
narrows its user's permissions to the token's scopes. Object-level rules (a domain lead sees only
their domains, a user manages only their own tokens) are applied **inside the queries** with the
``scope_*`` helpers, so an object outside the actor's scope is simply not found: the adapters
answer 404 exactly as for a missing id. A missing permission is a 403.

To add a permission: add it to :class:`Permission`, grant it in :data:`ROLE_PERMISSIONS` (and in
:data:`TOKEN_SCOPES` if an API token may carry it), and declare it on the route with
``api.auth.Require``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, true
from sqlalchemy.orm import InstrumentedAttribute

from surveys.errors import DomainError, ErrorKind


class Permission(StrEnum):
    ACCOUNT = "account:self"
    REGISTRY_READ = "registry:read"
    REGISTRY_WRITE = "registry:write"
    CONTACTS_READ = "contacts:read"
    QUESTIONNAIRES_READ = "questionnaires:read"
    QUESTIONNAIRES_MANAGE = "questionnaires:manage"
    CAMPAIGNS_MANAGE = "campaigns:manage"
    RESPONSES_READ = "responses:read"
    RESPONSES_EDIT = "responses:edit"
    MAPS_READ = "maps:read"
    EXPORT_PSEUDONYMISED = "export:pseudonymised"
    EXPORT_IDENTIFIED = "export:identified"
    TOKENS_OWN = "tokens:own"
    TOKENS_MANAGE = "tokens:manage"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    PRIVACY_MANAGE = "privacy:manage"


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    DOMAIN_LEAD = "domain_lead"
    RESEARCHER = "researcher"


P = Permission

_STAFF = frozenset({P.ACCOUNT, P.TOKENS_OWN, P.REGISTRY_READ})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Admin: users, secrets and everything a coordinator does.
    Role.ADMIN: frozenset(Permission),
    # Coordinator: the data (registry, questionnaires, campaigns, responses, exports, audit).
    Role.COORDINATOR: _STAFF
    | {
        P.REGISTRY_WRITE,
        P.CONTACTS_READ,
        P.QUESTIONNAIRES_READ,
        P.QUESTIONNAIRES_MANAGE,
        P.CAMPAIGNS_MANAGE,
        P.RESPONSES_READ,
        P.RESPONSES_EDIT,
        P.MAPS_READ,
        P.EXPORT_PSEUDONYMISED,
        P.EXPORT_IDENTIFIED,
        P.AUDIT_READ,
    },
    # Domain lead: maps, indicators and institution-level answers of their domains only.
    Role.DOMAIN_LEAD: _STAFF | {P.QUESTIONNAIRES_READ, P.RESPONSES_READ, P.MAPS_READ},
    # Researcher: pseudonymised exports only.
    Role.RESEARCHER: _STAFF | {P.EXPORT_PSEUDONYMISED},
}

# What an API token may carry. Managing users, tokens, privacy requests and one's own account
# needs a signed-in person (a browser session), never a token.
TOKEN_SCOPES: frozenset[Permission] = frozenset(
    {
        P.REGISTRY_READ,
        P.REGISTRY_WRITE,
        P.QUESTIONNAIRES_READ,
        P.RESPONSES_READ,
        P.MAPS_READ,
        P.EXPORT_PSEUDONYMISED,
        P.EXPORT_IDENTIFIED,
        P.AUDIT_READ,
    }
)

# Roles whose accounts must use a second factor in production.
TOTP_REQUIRED_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR})


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff user (through a session or a token), or nobody.

    Built by the adapters from the session cookie, the bearer token or the command line; the
    domain receives it only to scope queries and to label audit events.
    """

    kind: str = "anonymous"  # anonymous | staff | system
    user_id: int | None = None
    role: Role | None = None
    domains: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    token_id: int | None = None
    scopes: frozenset[Permission] | None = None
    # A token issued for some campaigns reads only those (slugs); None: no such narrowing.
    campaigns: frozenset[str] | None = None
    via: str = "none"  # none | session | token | cli
    label_override: str | None = field(default=None, compare=False)

    @property
    def is_authenticated(self) -> bool:
        return self.kind == "staff" and self.user_id is not None and self.role is not None

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.kind == "system":
            return frozenset(Permission)
        if not self.is_authenticated or self.role is None:
            return frozenset()
        granted = ROLE_PERMISSIONS[self.role]
        if self.scopes is not None:
            granted = granted & self.scopes
        return granted

    @property
    def label(self) -> str:
        """How audit events name the actor: ids only, never an e-mail address."""
        if self.label_override:
            return self.label_override
        if self.kind == "system":
            return "system"
        if not self.is_authenticated:
            return "anonymous"
        if self.token_id is not None:
            return f"user:{self.user_id}/token:{self.token_id}"
        return f"user:{self.user_id}"


ANONYMOUS = Actor()


def system_actor(label: str = "system:cli") -> Actor:
    """The actor of a command run by an operator on the server."""
    return Actor(kind="system", via="cli", label_override=label)


def staff_actor(
    *,
    user_id: int,
    role: str,
    domains: list[str] | tuple[str, ...] = (),
    countries: list[str] | tuple[str, ...] = (),
    via: str = "session",
    token_id: int | None = None,
    scopes: list[str] | tuple[str, ...] | None = None,
    campaigns: list[str] | tuple[str, ...] | None = None,
) -> Actor:
    """The actor for a user row (and, through a token, its scopes and campaigns)."""
    return Actor(
        kind="staff",
        user_id=user_id,
        role=Role(role),
        domains=tuple(domains),
        countries=tuple(countries),
        via=via,
        token_id=token_id,
        scopes=None if scopes is None else frozenset(Permission(s) for s in scopes),
        campaigns=None if campaigns is None else frozenset(campaigns),
    )


class PermissionDenied(DomainError):
    code = "forbidden"
    kind = ErrorKind.FORBIDDEN
    title = "Not allowed"


def authorize(actor: Actor, action: Permission) -> None:
    """Raise :class:`PermissionDenied` (403) unless the actor holds the permission."""
    if action not in actor.permissions:
        raise PermissionDenied(
            "Your account is not allowed to do this. Ask an administrator if you need it."
        )


_Q = TypeVar("_Q", bound=Select[Any])
Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def domain_clause(actor: Actor, column: Column) -> ColumnElement[bool]:
    """A WHERE clause keeping rows of the actor's domains (all rows for unscoped roles)."""
    if actor.kind == "system" or actor.role is not Role.DOMAIN_LEAD:
        return true()
    if not actor.domains:
        return false()
    return column.in_(actor.domains)


def country_clause(actor: Actor, column: Column) -> ColumnElement[bool]:
    """A WHERE clause keeping rows of a domain lead's countries, when their scope names any."""
    if actor.kind == "system" or actor.role is not Role.DOMAIN_LEAD or not actor.countries:
        return true()
    return column.in_(actor.countries)


def scope_by_domain(actor: Actor, query: _Q, column: Column) -> _Q:
    """The query, filtered to the actor's domains (scenario 33: the filter is in the query)."""
    return query.where(domain_clause(actor, column))


def scope_by_country(actor: Actor, query: _Q, column: Column) -> _Q:
    """The query, filtered to a domain lead's countries."""
    return query.where(country_clause(actor, column))


def owner_clause(actor: Actor, column: Column, manage: Permission) -> ColumnElement[bool]:
    """Rows the actor owns (``column`` is the owner's user id), or every row with ``manage``."""
    if manage in actor.permissions:
        return true()
    if actor.user_id is None:
        return false()
    return column == actor.user_id
