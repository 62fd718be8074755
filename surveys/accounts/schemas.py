"""Schemas of accounts and API tokens: what the admin pages, the API and the CLI accept."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from surveys.domains import DOMAINS
from surveys.policy import TOKEN_SCOPES, Permission, Role
from surveys.schemas import Schema

MAX_TOKEN_DAYS = 90


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character; remove it and try again")
    return value


def _email(value: str) -> str:
    value = value.strip().lower()
    local, _, host = value.partition("@")
    if not local or "." not in host or any(c.isspace() for c in value) or value.count("@") != 1:
        raise ValueError("enter an e-mail address such as name@hospital.eu")
    return value


def _known_domains(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in DOMAINS]
    if unknown:
        raise ValueError(f"unknown domain {unknown[0]!r}; use one of: {', '.join(DOMAINS)}")
    return sorted(set(values))


def _country_codes(values: list[str]) -> list[str]:
    codes = sorted({v.strip().upper() for v in values if v.strip()})
    for code in codes:
        if len(code) != 2 or not code.isalpha() or not code.isascii():
            raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code such as FR")
    return codes


Email = Annotated[
    str,
    StringConstraints(min_length=3, max_length=254),
    AfterValidator(_no_nul),
    AfterValidator(_email),
]
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_nul),
]
Domains = Annotated[list[str], Field(max_length=len(DOMAINS)), AfterValidator(_known_domains)]
Countries = Annotated[
    list[Annotated[str, StringConstraints(max_length=3)]],
    Field(max_length=60),
    AfterValidator(_country_codes),
]
Password = Annotated[str, StringConstraints(max_length=1024)]


class ScopedRole(Schema):
    """A role and, for a domain lead, the domains (at least one) and optionally countries."""

    role: Role
    domains: Domains = Field(default_factory=list)
    countries: Countries = Field(default_factory=list)

    @model_validator(mode="after")
    def _scope_fits_the_role(self) -> Self:
        if self.role is Role.DOMAIN_LEAD and not self.domains:
            raise ValueError("a domain lead needs at least one domain")
        if self.role is not Role.DOMAIN_LEAD and (self.domains or self.countries):
            raise ValueError("only a domain lead is scoped to domains and countries")
        return self


class UserCreate(ScopedRole):
    email: Email
    display_name: DisplayName
    password: Password


class UserRoleChange(ScopedRole):
    pass


class UserRead(Schema):
    id: int
    email: str
    display_name: str
    role: str
    domains: list[str]
    countries: list[str]
    active: bool
    totp_enabled: bool
    locked_until: dt.datetime | None
    created_at: dt.datetime
    last_login_at: dt.datetime | None


CampaignSlug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"),
]
TokenScope = Annotated[Permission, AfterValidator(lambda p: _grantable(p))]


def _grantable(scope: Permission) -> Permission:
    if scope not in TOKEN_SCOPES:
        raise ValueError(
            f"{scope.value!r} cannot be given to an API token; "
            f"use one of: {', '.join(sorted(s.value for s in TOKEN_SCOPES))}"
        )
    return scope


class TokenCreate(Schema):
    """A new API token: a name to recognise it, its scopes, and how many days it lives."""

    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
        AfterValidator(_no_nul),
    ]
    scopes: Annotated[list[TokenScope], Field(min_length=1, max_length=len(TOKEN_SCOPES))]
    days: Annotated[int, Field(ge=1, le=MAX_TOKEN_DAYS)] = 30
    campaigns: Annotated[
        list[CampaignSlug] | None,
        Field(
            max_length=100,
            description="Campaigns (slugs) the token may read; omitted: every campaign its "
            "user may read.",
        ),
    ] = None


class TokenRead(Schema):
    id: int
    user_id: int
    name: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    campaigns: list[str] | None = None


class IssuedToken(TokenRead):
    """A token as issued: ``token`` is shown this once and never stored."""

    token: str
