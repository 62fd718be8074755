"""API tokens: scoped, expiring (at most 90 days), revocable; only their SHA-256 is stored.

A token reads ``agt_`` followed by 256 random bits, so a leaked one is easy to recognise (and to
search for in logs and repositories). It acts as its user, narrowed to its scopes.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveys.accounts.errors import ScopeNotAllowed, TokenNotFound
from surveys.accounts.models import ApiToken, User
from surveys.accounts.schemas import IssuedToken, TokenCreate, TokenRead
from surveys.accounts.sessions import TOUCH_EVERY, token_digest
from surveys.db import utcnow
from surveys.errors import FieldError
from surveys.policy import ROLE_PERMISSIONS, Actor, Permission, Role, owner_clause

PREFIX = "agt_"


def to_read(token: ApiToken) -> TokenRead:
    return TokenRead.model_validate(token)


def issue_token(
    session: Session, user: User, data: TokenCreate, *, now: dt.datetime | None = None
) -> IssuedToken:
    """A new token for the user; its scopes must be permissions the user's role holds."""
    now = now or utcnow()
    allowed = ROLE_PERMISSIONS[Role(user.role)]
    refused = [s.value for s in data.scopes if s not in allowed]
    if refused:
        raise ScopeNotAllowed(
            f"A {user.role} account cannot hold {', '.join(refused)}.",
            errors=[FieldError(("scopes",), f"not allowed for this account: {', '.join(refused)}")],
        )
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=data.name,
        token_hash=token_digest(raw),
        scopes=sorted({s.value for s in data.scopes}),
        created_at=now,
        expires_at=now + dt.timedelta(days=data.days),
    )
    session.add(token)
    session.flush()
    return IssuedToken(**to_read(token).model_dump(), token=raw)


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


def revoke_token(
    session: Session, actor: Actor, token_id: int, *, now: dt.datetime | None = None
) -> ApiToken:
    """Revoke a token the actor may manage; anyone else's is "not found", like a missing one."""
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
    return token
