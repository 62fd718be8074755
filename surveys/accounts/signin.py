"""Use cases of signing in and out: the password, the second factor, lockouts and sign-out.

Sign-in follows RELIABILITY.md scenario 40: the same answer and the same work (one argon2
verification) whether the account exists or not; 10 failures within 15 minutes lock the account
key (a keyed hash of the e-mail address) for 15 minutes, again whether the account exists or not.
Every outcome is audited here, in the request's transaction; the page only starts the session
(its cookie) the use case asks for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveys.accounts import passwords, totp
from surveys.accounts.models import LoginThrottle, StaffSession, User
from surveys.accounts.service import actor_of, enable_totp, find_user_by_email, get_user
from surveys.audit.channel import channel
from surveys.audit.service import record
from surveys.db import utcnow
from surveys.policy import TOTP_REQUIRED_ROLES, Actor, Permission, Role, authorize

MAX_FAILURES = 10
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)


class LoginOutcome(StrEnum):
    SUCCESS = "success"
    INVALID = "invalid"
    LOCKED = "locked"  # already locked: the password was not even checked
    LOCKED_NOW = "locked_now"  # this failure locked the key


FAILURE_ACTIONS = {
    LoginOutcome.INVALID: "login.failure",
    LoginOutcome.LOCKED: "login.locked",
    LoginOutcome.LOCKED_NOW: "login.lockout",
}


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    failures: int = 0

    @property
    def locked(self) -> bool:
        return self.outcome in (LoginOutcome.LOCKED, LoginOutcome.LOCKED_NOW)


class Stage(StrEnum):
    """The session a successful password step starts."""

    FULL = "full"
    TOTP = "totp"  # ask for the authenticator code next
    ENROL = "enrol"  # set an authenticator up first (required for the role)


@dataclass(frozen=True)
class SignIn:
    """What the password step decided, and on success which session to start."""

    outcome: LoginOutcome
    user: User | None = None
    stage: Stage = Stage.FULL
    pending_totp_secret: str | None = None

    @property
    def locked(self) -> bool:
        return self.outcome in (LoginOutcome.LOCKED, LoginOutcome.LOCKED_NOW)


def throttle_key(email: str, secret: str) -> str:
    """The keyed hash that names an e-mail address in the throttle table (no address stored)."""
    normalised = email.strip().lower().encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), b"login:" + normalised, hashlib.sha256).hexdigest()


# --- the use cases ---------------------------------------------------------------------------


def sign_in(
    session: Session,
    actor: Actor,
    *,
    email: str,
    password: str,
    throttle_secret: str,
    totp_required: bool,
    request_id: str | None,
    now: dt.datetime | None = None,
) -> SignIn:
    """Check an e-mail address and password and audit the outcome.

    A failure is ``login.failure`` (``login.locked`` while locked, ``login.lockout`` when this
    one locked the key). A success without a second factor is ``login.success``; with one, the
    success is recorded when the code is confirmed (:func:`confirm_second_factor`).
    """
    key = throttle_key(email, throttle_secret)
    result = authenticate(session, email=email, password=password, key=key, now=now)
    user = result.user
    if result.outcome is not LoginOutcome.SUCCESS or user is None:
        record(
            session,
            actor=actor,
            action=FAILURE_ACTIONS.get(result.outcome, "login.failure"),
            object_type="user",
            object_id=user.id if user is not None else None,
            details={"failures": result.failures, "key": key[:16], "known": user is not None},
            request_id=request_id,
        )
        return SignIn(result.outcome, user)
    if user.totp_secret is not None:
        return SignIn(result.outcome, user, Stage.TOTP)
    if totp_required and Role(user.role) in TOTP_REQUIRED_ROLES:
        return SignIn(result.outcome, user, Stage.ENROL, pending_totp_secret=totp.new_secret())
    _record_success(session, user, second_factor=False, request_id=request_id)
    return SignIn(result.outcome, user)


def confirm_second_factor(
    session: Session,
    actor: Actor,
    pending: StaffSession,
    code: str,
    *,
    throttle_secret: str,
    request_id: str | None,
) -> LoginResult:
    """The second step of signing in: the authenticator code (or the first one, when enrolling).

    A wrong code counts as a failed sign-in against the account's key (``login.totp_failure``);
    a right one is ``login.success`` (after ``user.totp_enable`` when it set the factor up).
    """
    user = get_user(session, pending.user_id)
    if pending.stage == Stage.ENROL and pending.pending_totp_secret:
        secret = pending.pending_totp_secret
        step = totp.matching_step(secret, code, at=utcnow(), after=None)
        ok = step is not None
        if ok:
            enable_totp(session, user, secret, step=step)
            record(
                session,
                actor=actor_of(user),
                action="user.totp_enable",
                object_type="user",
                object_id=user.id,
                request_id=request_id,
            )
    else:
        ok = verify_totp(user, code)
    if not ok:
        key = throttle_key(user.email, throttle_secret)
        result = register_failure(session, key=key, user=user)
        record(
            session,
            actor=actor,
            action="login.totp_failure",
            object_type="user",
            object_id=user.id,
            details={"failures": result.failures},
            request_id=request_id,
        )
        return result
    _record_success(session, user, second_factor=True, request_id=request_id)
    return LoginResult(LoginOutcome.SUCCESS, user)


def sign_out(session: Session, actor: Actor, *, request_id: str | None) -> None:
    """Record the sign-out (the adapter then deletes the session row and its cookie)."""
    record(
        session,
        actor=actor,
        action="logout",
        object_type="user",
        object_id=actor.user_id,
        request_id=request_id,
    )


def unlock_user(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    throttle_secret: str,
    request_id: str | None,
) -> User:
    """Lift a sign-in lockout before its 15 minutes are over (users:manage)."""
    authorize(actor, Permission.USERS_MANAGE)
    user = get_user(session, user_id)
    key = throttle_key(user.email, throttle_secret)
    session.execute(delete(LoginThrottle).where(LoginThrottle.key_hash == key))
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    record(
        session,
        actor=actor,
        action="user.unlock",
        object_type="user",
        object_id=user.id,
        details=channel(actor),
        request_id=request_id,
    )
    return user


def _record_success(
    session: Session, user: User, *, second_factor: bool, request_id: str | None
) -> None:
    record(
        session,
        actor=actor_of(user),
        action="login.success",
        object_type="user",
        object_id=user.id,
        details={"second_factor": second_factor},
        request_id=request_id,
    )


# --- the steps: password check, failure count, code check ------------------------------------


def _throttle(session: Session, key: str, now: dt.datetime) -> LoginThrottle:
    row = session.get(LoginThrottle, key)
    if row is not None:
        return row
    purge_stale_throttles(session, now=now)
    row = LoginThrottle(key_hash=key, failures=0, window_started_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # Another request created it at the same moment: use theirs.
        existing = session.get(LoginThrottle, key)
        if existing is None:  # pragma: no cover - the row cannot vanish in between
            raise
        return existing
    return row


def authenticate(
    session: Session, *, email: str, password: str, key: str, now: dt.datetime | None = None
) -> LoginResult:
    """Check an e-mail address and password, counting failures per key (scenario 40)."""
    now = now or utcnow()
    throttle = _throttle(session, key, now)
    user = find_user_by_email(session, email) if len(email) <= 254 else None
    if throttle.locked_until is not None and throttle.locked_until > now:
        return LoginResult(LoginOutcome.LOCKED, user, throttle.failures)
    stored = user.password_hash if user is not None else passwords.dummy_hash()
    verified = passwords.verify_password(stored, password[: passwords.MAX_LENGTH * 4])
    if verified and user is not None and user.active:
        session.delete(throttle)
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        session.flush()
        return LoginResult(LoginOutcome.SUCCESS, user)
    return register_failure(session, key=key, user=user, now=now, throttle=throttle)


def register_failure(
    session: Session,
    *,
    key: str,
    user: User | None,
    now: dt.datetime | None = None,
    throttle: LoginThrottle | None = None,
) -> LoginResult:
    """Count one failed sign-in step (password or second-factor code) against the key."""
    now = now or utcnow()
    throttle = throttle or _throttle(session, key, now)
    if throttle.locked_until is not None and throttle.locked_until > now:
        return LoginResult(LoginOutcome.LOCKED, user, throttle.failures)
    if now - throttle.window_started_at > FAILURE_WINDOW or throttle.locked_until is not None:
        throttle.failures = 0
        throttle.window_started_at = now
        throttle.locked_until = None
    throttle.failures += 1
    outcome = LoginOutcome.INVALID
    if throttle.failures >= MAX_FAILURES:
        throttle.locked_until = now + LOCKOUT
        outcome = LoginOutcome.LOCKED_NOW
    if user is not None:
        user.failed_logins = throttle.failures
        user.locked_until = throttle.locked_until
    session.flush()
    return LoginResult(outcome, user, throttle.failures)


def verify_totp(user: User, code: str, *, now: dt.datetime | None = None) -> bool:
    """Check a code against the user's secret, once only: the step is remembered."""
    if user.totp_secret is None:
        return False
    step = totp.matching_step(user.totp_secret, code, at=now or utcnow(), after=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def purge_stale_throttles(session: Session, *, now: dt.datetime | None = None) -> int:
    """Forget failure counts older than a day that no longer lock anything (housekeeping)."""
    now = now or utcnow()
    result = session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.window_started_at < now - dt.timedelta(days=1),
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
