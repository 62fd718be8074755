"""Guessing invitation links is throttled per source address (RELIABILITY scenario 35).

Only failed attempts count, so colleagues behind the same address who hold valid links keep
working: a valid link is never refused. More than 20 failures within a minute block the address
for 15 minutes: every further invalid link from it answers 429 with ``Retry-After``. The count
is in the shared store (:mod:`surveys.throttles.store`), so all workers see one throttle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from sqlalchemy.orm import Session

from surveys.accounts.signin import source_of
from surveys.db import utcnow
from surveys.throttles.store import Guard, Limit

INVITATION_GUESSES = Limit(
    max_failures=21, window=dt.timedelta(minutes=1), block=dt.timedelta(minutes=15)
)


def invitation_key(address: str, secret: str) -> str:
    """The keyed hash of a source address in the invitation throttle."""
    return hmac.new(
        secret.encode(), b"invitation-source\n" + source_of(address).encode(), hashlib.sha256
    ).hexdigest()


def count_invalid_link(
    session: Session, guard: Guard, address: str, *, now: dt.datetime | None = None
) -> int | None:
    """Count one invalid invitation link from an address; the seconds it must now wait, or None
    while it may go on."""
    now = now or utcnow()
    key = invitation_key(address, guard.secret)
    tally = guard.store.count_failure(session, key, INVITATION_GUESSES, group=key, now=now)
    return tally.seconds_left(now) if tally.blocked(now) else None
