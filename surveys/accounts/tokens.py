"""API tokens: scoped, expiring (at most 90 days), revocable; only their SHA-256 is stored.

A token reads ``agt_`` followed by 256 random bits, so a leaked one is easy to recognise (and to
search for in logs and repositories). It acts as its user, narrowed to its scopes.

Issuing and revoking are one use case each (:func:`issue`, :func:`revoke`), called alike by the
account page, the admin pages and the JSON API; each records its own audit event.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveys.accounts.errors import ScopeNotAllowed, TokenNotFound, UserNotFound
from surveys.accounts.models import ApiToken, User
from surveys.accounts.schemas import IssuedToken, TokenCreate, TokenRead
from surveys.accounts.sessions import TOUCH_EVERY, token_digest
from surveys.audit.channel import channel
from surveys.audit.service import record
from surveys.campaigns.grants import granted_slugs
from surveys.campaigns.models import Campaign
from surveys.db import utcnow
from surveys.errors import FieldError
from surveys.policy import ROLE_PERMISSIONS, Actor, Permission, Role, authorize, owner_clause

PREFIX = "agt_"


def to_read(token: ApiToken) -> TokenRead:
    return TokenRead.model_validate(token)


def issue_token(
    session: Session, user: User, data: TokenCreate, *, now: dt.datetime | None = None
) -> IssuedToken:
    """A new token for the user; its scopes must be permissions the user's role holds.

    The step itself, unaudited (test fixtures and load scripts use it): people, pages and
    commands go through :func:`issue`.
    """
    now = now or utcnow()
    allowed = ROLE_PERMISSIONS[Role(user.role)]
    refused = [s.value for s in data.scopes if s not in allowed]
    if refused:
        raise ScopeNotAllowed(
            f"A {user.role} account cannot hold {', '.join(refused)}.",
            errors=[FieldError(("scopes",), f"not allowed for this account: {', '.join(refused)}")],
        )
    campaigns = _token_campaigns(session, user, data.campaigns)
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=data.name,
        token_hash=token_digest(raw),
        scopes=sorted({s.value for s in data.scopes}),
        campaigns=campaigns,
        created_at=now,
        expires_at=now + dt.timedelta(days=data.days),
    )
    session.add(token)
    session.flush()
    return IssuedToken(**to_read(token).model_dump(), token=raw)


def _token_campaigns(session: Session, user: User, wanted: list[str] | None) -> list[str] | None:
    """The campaigns a new token is narrowed to: each must exist and, for a researcher, be
    granted to them (a token never reads more than its user)."""
    if wanted is None:
        return None
    wanted = sorted(set(wanted))
    known = set(session.scalars(select(Campaign.slug).where(Campaign.slug.in_(wanted))))
    if Role(user.role) is Role.RESEARCHER:
        known &= granted_slugs(session, user.id)
    refused = [slug for slug in wanted if slug not in known]
    if refused:
        raise ScopeNotAllowed(
            f"This account cannot read the campaign(s) {', '.join(refused)}: name campaigns "
            "that exist and, for a researcher, that are granted to you.",
            errors=[FieldError(("campaigns",), f"not readable: {', '.join(refused)}")],
        )
    return wanted


def find_token(session: Session, raw: str, *, now: dt.datetime | None = None) -> ApiToken | None:
    """The live token for a bearer value (with its user loaded), or None."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    now = now or utcnow()
    token = session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == token_digest(raw))
    )
    if (
        token is None
        or token.revoked_at is not None
        or token.expires_at <= now
        or not token.user.active
    ):
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
    return token


def list_tokens(session: Session, actor: Actor, *, user_id: int | None = None) -> list[ApiToken]:
    """Tokens the actor may see: their own, or everyone's with ``tokens:manage``."""
    query = select(ApiToken).where(owner_clause(actor, ApiToken.user_id, Permission.TOKENS_MANAGE))
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


# --- the use cases: issue and revoke (audited) ----------------------------------------------


def issue(
    session: Session,
    actor: Actor,
    data: TokenCreate,
    *,
    owner_id: int | None = None,
    request_id: str | None,
) -> IssuedToken:
    """Issue an API token: yourself one (tokens:own), or another user one (tokens:manage).

    The raw token is in the answer, once; the audit event names the token, never its value.
    """
    owner_id = actor.user_id if owner_id is None else owner_id
    own = owner_id is not None and owner_id == actor.user_id
    authorize(actor, Permission.TOKENS_OWN if own else Permission.TOKENS_MANAGE)
    owner = session.get(User, owner_id) if owner_id is not None else None
    if owner is None:
        raise UserNotFound("No user has this id.")
    issued = issue_token(session, owner, data)
    record(
        session,
        actor=actor,
        action="token.issue",
        object_type="api_token",
        object_id=issued.id,
        details={
            "token_name": issued.name,
            "scopes": issued.scopes,
            **({"campaigns": issued.campaigns} if issued.campaigns is not None else {}),
            "for_user": owner.id,
            **channel(actor),
        },
        request_id=request_id,
    )
    return issued


def revoke(
    session: Session,
    actor: Actor,
    token_id: int,
    *,
    request_id: str | None,
    now: dt.datetime | None = None,
) -> ApiToken:
    """Revoke a token the actor may manage; it stops working at once.

    One's own tokens with tokens:own, anyone's with tokens:manage; anyone else's token is "not
    found", like a missing one. Revoking twice is harmless (and audited twice).
    """
    if Permission.TOKENS_MANAGE not in actor.permissions:
        authorize(actor, Permission.TOKENS_OWN)
    token = session.scalar(
        select(ApiToken).where(
            ApiToken.id == token_id,
            owner_clause(actor, ApiToken.user_id, Permission.TOKENS_MANAGE),
        )
    )
    if token is None:
        raise TokenNotFound("No token has this id.")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        session.flush()
    record(
        session,
        actor=actor,
        action="token.revoke",
        object_type="api_token",
        object_id=token.id,
        details={"for_user": token.user_id, **channel(actor)},
        request_id=request_id,
    )
    return token
