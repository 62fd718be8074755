"""Server-side sessions: only a hash stored, idle and absolute limits, sign-out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from surveys.accounts import sessions
from surveys.db import utcnow
from tests.accounts_fixtures import make_user

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)


def test_the_cookie_value_is_random_and_only_its_hash_is_stored(session: Session) -> None:
    user = make_user(session)
    raw, row = sessions.start_session(session, user, absolute=ABSOLUTE)
    other, _ = sessions.start_session(session, user, absolute=ABSOLUTE)
    assert raw != other
    assert len(raw) >= 43
    assert row.token_hash == sessions.token_digest(raw)
    assert raw not in row.token_hash
    assert len(row.csrf_token) >= 43


def test_idle_limit_absolute_limit_and_touch(session: Session) -> None:
    user = make_user(session)
    start = utcnow()
    raw, row = sessions.start_session(session, user, absolute=ABSOLUTE, now=start)
    at = start + dt.timedelta(minutes=29)
    assert sessions.find_session(session, raw, idle=IDLE, now=at) is row
    assert row.last_seen_at == at  # touched: the idle clock starts again
    assert sessions.find_session(session, raw, idle=IDLE, now=at + dt.timedelta(minutes=29))
    assert sessions.find_session(session, raw, idle=IDLE, now=at + dt.timedelta(hours=2)) is None
    raw2, row2 = sessions.start_session(session, user, absolute=ABSOLUTE, now=start)
    row2.last_seen_at = start + dt.timedelta(hours=12)
    assert sessions.find_session(session, raw2, idle=IDLE, now=start + ABSOLUTE) is None


def test_pending_sessions_live_five_minutes(session: Session) -> None:
    user = make_user(session)
    start = utcnow()
    raw, row = sessions.start_session(session, user, absolute=ABSOLUTE, stage="totp", now=start)
    assert row.expires_at == start + sessions.PENDING_LIFETIME
    assert (
        sessions.find_session(session, raw, idle=IDLE, now=start + dt.timedelta(minutes=6)) is None
    )


def test_end_session_and_unknown_values(session: Session) -> None:
    user = make_user(session)
    raw, row = sessions.start_session(session, user, absolute=ABSOLUTE)
    sessions.end_session(session, row)
    assert sessions.find_session(session, raw, idle=IDLE) is None
    assert sessions.find_session(session, "", idle=IDLE) is None
    assert sessions.find_session(session, "x" * 1000, idle=IDLE) is None


def test_end_user_sessions_can_keep_one(session: Session) -> None:
    user = make_user(session)
    raw_a, keep = sessions.start_session(session, user, absolute=ABSOLUTE)
    raw_b, _ = sessions.start_session(session, user, absolute=ABSOLUTE)
    assert sessions.end_user_sessions(session, user.id, keep=keep.id) == 1
    assert sessions.find_session(session, raw_a, idle=IDLE) is not None
    assert sessions.find_session(session, raw_b, idle=IDLE) is None
