"""Respondent sessions: an invitation link becomes a session cookie, and the link is no longer
needed (nor shown). Idle for two hours, a session ends; the draft is saved all along.

A respondent acts through their session: its invitation names the one campaign and the one
centre they may answer for, and the audit log names them ``invitation:<id>`` (never a person).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveys.audit.service import record
from surveys.campaigns.invitations import resolve_invitation
from surveys.campaigns.models import Invitation, RespondentSession
from surveys.policy import Actor

IDLE = dt.timedelta(hours=2)
ABSOLUTE = dt.timedelta(hours=24)
TOUCH_EVERY = dt.timedelta(seconds=60)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def respondent_actor(row: RespondentSession) -> Actor:
    """How the audit log and the response versions name a respondent: by their invitation."""
    return Actor(kind="respondent", label_override=f"invitation:{row.invitation_id}")


def open_session(
    session: Session,
    token: str,
    *,
    now: dt.datetime,
    request_id: str | None,
    language: str | None = None,
) -> tuple[str, RespondentSession]:
    """Exchange an invitation token for a new session (the token is the respondent's only
    credential); returns the raw cookie value and the row, and records the opening."""
    invitation = resolve_invitation(session, token, now=now)
    raw = secrets.token_urlsafe(32)
    row = RespondentSession(
        token_hash=_digest(raw),
        invitation_id=invitation.id,
        csrf_token=secrets.token_urlsafe(32),
        language=language,
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=respondent_actor(row),
        action="invitation.open",
        object_type="invitation",
        object_id=row.invitation_id,
        request_id=request_id,
    )
    return raw, row


def find_session(session: Session, raw: str, *, now: dt.datetime) -> RespondentSession | None:
    """The live session for a cookie value, with its invitation, campaign and centre loaded."""
    if not raw or len(raw) > 200:
        return None
    digest = _digest(raw)
    row = session.scalar(
        select(RespondentSession)
        .where(RespondentSession.token_hash == digest)
        .options(
            joinedload(RespondentSession.invitation).joinedload(Invitation.campaign),
            joinedload(RespondentSession.invitation).joinedload(Invitation.centre),
        )
    )
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    invitation = row.invitation
    expired = now >= row.expires_at or now - row.last_seen_at > IDLE
    revoked = invitation.revoked_at is not None
    lapsed = invitation.expires_at is not None and now >= invitation.expires_at
    if expired or revoked or lapsed:
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return row


def end_session(session: Session, row: RespondentSession) -> None:
    session.delete(row)
    session.flush()
