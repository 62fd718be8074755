"""Use cases of staff accounts: create, change role or scope, deactivate, sign in, passwords, TOTP.

Sign-in follows RELIABILITY.md scenario 40: the same answer and the same work (one argon2
verification) whether the account exists or not; 10 failures within 15 minutes lock the account
key (a keyed hash of the e-mail address) for 15 minutes, again whether the account exists or not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveys.accounts import passwords, totp
from surveys.accounts.errors import EmailTaken, LastAdmin, UserNotFound, WeakPassword
from surveys.accounts.models import LoginThrottle, User
from surveys.accounts.schemas import UserCreate, UserRead, UserRoleChange
from surveys.accounts.sessions import end_user_sessions
from surveys.db import utcnow
from surveys.errors import FieldError

MAX_FAILURES = 10
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)


def to_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        domains=list(user.domains),
        countries=list(user.countries),
        active=user.active,
        totp_enabled=user.totp_secret is not None,
        locked_until=user.locked_until,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def _personal_words(email: str, display_name: str) -> tuple[str, ...]:
    local = email.split("@", 1)[0]
    return (email, local, display_name, display_name.replace(" ", ""), *display_name.split())


def check_new_password(password: str, *, email: str, display_name: str) -> None:
    """Raise :class:`WeakPassword` naming the ``password`` field when the policy refuses it."""
    problems = passwords.password_problems(password, personal=_personal_words(email, display_name))
    if problems:
        raise WeakPassword(
            problems[0], errors=[FieldError(("password",), p, "weak_password") for p in problems]
        )


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound("No user has this id.")
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.email)))


def create_user(session: Session, data: UserCreate, *, with_totp: bool = False) -> User:
    """A new staff account; the password must pass the policy and the e-mail be unused."""
    check_new_password(data.password, email=data.email, display_name=data.display_name)
    if find_user_by_email(session, data.email) is not None:
        raise EmailTaken(
            "An account with this e-mail address exists already.",
            errors=[FieldError(("email",), "an account with this e-mail address exists already")],
        )
    now = utcnow()
    user = User(
        email=data.email,
        display_name=data.display_name,
        password_hash=passwords.hash_password(data.password),
        role=data.role.value,
        domains=list(data.domains),
        countries=list(data.countries),
        totp_secret=totp.new_secret() if with_totp else None,
        active=True,
        failed_logins=0,
        created_at=now,
        password_changed_at=now,
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise EmailTaken("An account with this e-mail address exists already.") from exc
    return user


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))
        )
        or 0
    )


def change_role(session: Session, user_id: int, data: UserRoleChange) -> tuple[User, str]:
    """Give a user another role or scope; their sessions end (a new id at privilege change).

    Returns the user and the previous role. The last active admin cannot be demoted.
    """
    user = get_user(session, user_id)
    previous = user.role
    if previous == "admin" and data.role.value != "admin" and _active_admins(session) <= 1:
        raise LastAdmin("This is the last active administrator; make someone else admin first.")
    user.role = data.role.value
    user.domains = list(data.domains)
    user.countries = list(data.countries)
    session.flush()
    end_user_sessions(session, user.id)
    return user, previous


def set_active(session: Session, user_id: int, *, active: bool) -> User:
    """Deactivate (or reactivate) an account; deactivation ends its sessions at once."""
    user = get_user(session, user_id)
    if not active and user.role == "admin" and user.active and _active_admins(session) <= 1:
        raise LastAdmin("This is the last active administrator; make someone else admin first.")
    user.active = active
    session.flush()
    if not active:
        end_user_sessions(session, user.id)
    return user


def set_password(
    session: Session, user: User, new_password: str, *, keep_session: int | None = None
) -> int:
    """Change a password (policy applies); every other session of the user ends.

    Returns the number of sessions ended.
    """
    check_new_password(new_password, email=user.email, display_name=user.display_name)
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    session.flush()
    return end_user_sessions(session, user.id, keep=keep_session)


def enable_totp(session: Session, user: User, secret: str, *, step: int | None = None) -> None:
    """Turn the second factor on with a secret the user has proven to hold."""
    user.totp_secret = secret
    user.totp_last_step = step
    session.flush()


def disable_totp(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    session.flush()


def verify_totp(user: User, code: str, *, now: dt.datetime | None = None) -> bool:
    """Check a code against the user's secret, once only: the step is remembered."""
    if user.totp_secret is None:
        return False
    step = totp.matching_step(user.totp_secret, code, at=now or utcnow(), after=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


# --- sign-in ---------------------------------------------------------------------------------


class LoginOutcome(StrEnum):
    SUCCESS = "success"
    INVALID = "invalid"
    LOCKED = "locked"  # already locked: the password was not even checked
    LOCKED_NOW = "locked_now"  # this failure locked the key


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    failures: int = 0


def throttle_key(email: str, secret: str) -> str:
    """The keyed hash that names an e-mail address in the throttle table (no address stored)."""
    normalised = email.strip().lower().encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), b"login:" + normalised, hashlib.sha256).hexdigest()


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


def unlock(session: Session, user: User, *, key: str) -> None:
    """Lift a lockout early (an admin action)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key_hash == key))
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


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
