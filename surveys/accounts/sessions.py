"""Server-side staff sessions: created at sign-in, checked on every request, ended at sign-out.

The cookie carries 256 random bits; the table keeps only their SHA-256, so neither a database
copy nor a backup can be turned back into a working cookie. A session ends after
``idle`` without a request or ``absolute`` after sign-in, whichever comes first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from surveys.accounts.models import StaffSession, User
from surveys.db import utcnow

PENDING_LIFETIME = dt.timedelta(minutes=5)
TOUCH_EVERY = dt.timedelta(seconds=60)


def token_digest(raw: str) -> str:
    """The SHA-256 (hex) under which a session id or an API token is stored."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(
    session: Session,
    user: User,
    *,
    absolute: dt.timedelta,
    stage: str = "full",
    pending_totp_secret: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, StaffSession]:
    """A new session for the user: returns the raw id (for the cookie, never stored) and the row."""
    now = now or utcnow()
    raw = secrets.token_urlsafe(32)
    lifetime = absolute if stage == "full" else min(absolute, PENDING_LIFETIME)
    row = StaffSession(
        token_hash=token_digest(raw),
        user_id=user.id,
        stage=stage,
        csrf_token=secrets.token_urlsafe(32),
        pending_totp_secret=pending_totp_secret,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return raw, row


def find_session(
    session: Session, raw: str, *, idle: dt.timedelta, now: dt.datetime | None = None
) -> StaffSession | None:
    """The live session for a cookie value (with its user loaded), or None.

    An expired session (idle or absolute) is deleted on sight, as is one whose user was
    deactivated. A live one has its ``last_seen_at`` moved forward (at most once a minute).
    """
    if not raw or len(raw) > 200:
        return None
    now = now or utcnow()
    row = session.scalar(
        select(StaffSession)
        .options(joinedload(StaffSession.user))
        .where(StaffSession.token_hash == token_digest(raw))
    )
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen_at + idle <= now or not row.user.active:
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def end_session(session: Session, row: StaffSession) -> None:
    """Sign out: the row is deleted, so replaying the cookie finds nothing."""
    session.execute(
        delete(StaffSession)
        .where(StaffSession.id == row.id)
        .execution_options(synchronize_session="fetch")
    )


def end_user_sessions(session: Session, user_id: int, *, keep: int | None = None) -> int:
    """End every session of a user (password or role change, deactivation); returns how many."""
    query = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep is not None:
        query = query.where(StaffSession.id != keep)
    result = session.execute(query.execution_options(synchronize_session="fetch"))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_expired_sessions(
    session: Session, *, idle: dt.timedelta, now: dt.datetime | None = None
) -> int:
    """Delete sessions past their absolute or idle limit (a housekeeping job)."""
    now = now or utcnow()
    result = session.execute(
        delete(StaffSession).where(
            (StaffSession.expires_at <= now) | (StaffSession.last_seen_at <= now - idle)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
