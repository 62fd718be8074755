"""Use cases of signing in and out: the password, the second factor, throttles and sign-out.

Sign-in follows RELIABILITY.md scenario 40: the same answer and the same work (one argon2
verification) whether the account exists or not. Failures are counted three ways, in a store
every worker shares (:mod:`surveys.throttles.store`), so that a stranger cannot lock a real user
out and spraying one password over many accounts is slowed (``docs/security.md``, "Signing in"):

* per account **and source address**: 10 failures within 15 minutes block that address for that
  account for 15 minutes; the user's own address is not affected by someone else's guessing;
* per account, from every address: past 100 failures within 15 minutes the account is *under
  attack*, which does not lock it but cuts every address to 3 failures per 15 minutes on it;
* per source address, over every account: 50 failures within 15 minutes block the address from
  signing in to any account for 15 minutes.

Every outcome is audited here, in the request's transaction; the page only starts the session
(its cookie) the use case asks for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from surveys.accounts import passwords, totp
from surveys.accounts.models import StaffSession, User
from surveys.accounts.service import actor_of, enable_totp, find_user_by_email, get_user
from surveys.audit.channel import channel
from surveys.audit.service import record
from surveys.db import utcnow
from surveys.errors import InvalidInput
from surveys.policy import TOTP_REQUIRED_ROLES, Actor, Permission, Role, authorize
from surveys.throttles.store import Guard, Limit

WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)
PER_ACCOUNT_AND_SOURCE = Limit(max_failures=10, window=WINDOW, block=LOCKOUT)
# Past this many failures on one account (all addresses together), the account is under attack
# until the window ends: not locked, but each address gets UNDER_ATTACK_FAILURES on it.
ACCOUNT_CEILING = Limit(max_failures=100, window=WINDOW, block=WINDOW)
UNDER_ATTACK_FAILURES = 3
PER_SOURCE = Limit(max_failures=50, window=WINDOW, block=LOCKOUT)
MAX_FAILURES = PER_ACCOUNT_AND_SOURCE.max_failures


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
    retry_after: int = 0  # seconds, when locked
    reason: str = ""  # which throttle: account_source, account_under_attack, source

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
    retry_after: int = 0

    @property
    def locked(self) -> bool:
        return self.outcome in (LoginOutcome.LOCKED, LoginOutcome.LOCKED_NOW)


def _keyed(secret: str, *parts: str) -> str:
    message = "\n".join(parts).encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _normal_email(email: str) -> str:
    return email.strip().lower()


def source_of(address: str | None) -> str:
    """The source a failure is counted against: the IPv4 address, or the /64 of an IPv6 one
    (one subscriber holds a whole /64); anything unparsable counts as one source."""
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def throttle_key(email: str, secret: str) -> str:
    """The keyed hash that names an account in the throttle store (no address stored)."""
    return _keyed(secret, "login", _normal_email(email))


def pair_key(email: str, source: str, secret: str) -> str:
    """The keyed hash of one account seen from one source."""
    return _keyed(secret, "login-pair", _normal_email(email), source_of(source))


def source_key(source: str, secret: str) -> str:
    """The keyed hash of one source address, over every account."""
    return _keyed(secret, "login-source", source_of(source))


# --- the use cases ---------------------------------------------------------------------------


def sign_in(
    session: Session,
    actor: Actor,
    *,
    email: str,
    password: str,
    guard: Guard,
    source: str,
    totp_required: bool,
    request_id: str | None,
    now: dt.datetime | None = None,
) -> SignIn:
    """Check an e-mail address and password from a source address and audit the outcome.

    A failure is ``login.failure`` (``login.locked`` while blocked, ``login.lockout`` when this
    one blocked the address). A success without a second factor is ``login.success``; with one,
    the success is recorded when the code is confirmed (:func:`confirm_second_factor`).
    """
    result = authenticate(
        session, email=email, password=password, guard=guard, source=source, now=now
    )
    user = result.user
    if result.outcome is not LoginOutcome.SUCCESS or user is None:
        details: dict[str, object] = {
            "failures": result.failures,
            "key": throttle_key(email, guard.secret)[:16],
            "source": source_key(source, guard.secret)[:16],
            "known": user is not None,
        }
        if result.reason:
            details["throttle"] = result.reason
        record(
            session,
            actor=actor,
            action=FAILURE_ACTIONS.get(result.outcome, "login.failure"),
            object_type="user",
            object_id=user.id if user is not None else None,
            details=details,
            request_id=request_id,
        )
        return SignIn(result.outcome, user, retry_after=result.retry_after)
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
    guard: Guard,
    source: str,
    request_id: str | None,
    now: dt.datetime | None = None,
) -> LoginResult:
    """The second step of signing in: the authenticator code (or the first one, when enrolling).

    A wrong code counts as a failed sign-in of the account from this source
    (``login.totp_failure``); a right one is ``login.success`` (after ``user.totp_enable`` when
    it set the factor up).
    """
    now = now or utcnow()
    user = get_user(session, pending.user_id)
    blocked = _blocked(session, guard, user.email, source, now)
    if blocked is not None:
        return LoginResult(LoginOutcome.LOCKED, user, blocked[0], blocked[1], blocked[2])
    if pending.stage == Stage.ENROL and pending.pending_totp_secret:
        secret = pending.pending_totp_secret
        step = totp.matching_step(secret, code, at=now, after=None)
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
        ok = verify_totp(user, code, now=now)
    if not ok:
        result = register_failure(
            session, guard=guard, email=user.email, source=source, user=user, now=now
        )
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
    guard: Guard,
    request_id: str | None,
) -> User:
    """Lift every sign-in block of an account, from every address, before it ends
    (users:manage)."""
    authorize(actor, Permission.USERS_MANAGE)
    user = get_user(session, user_id)
    cleared = guard.store.forget(session, group=throttle_key(user.email, guard.secret))
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    record(
        session,
        actor=actor,
        action="user.unlock",
        object_type="user",
        object_id=user.id,
        details={"counters": cleared, **channel(actor)},
        request_id=request_id,
    )
    return user


class BadAddress(InvalidInput):
    code = "bad_address"


def unblock_address(
    session: Session, actor: Actor, address: str, *, guard: Guard, request_id: str | None
) -> str:
    """Lift the block of a source address over every account (users:manage); the audit event
    names the address by its keyed hash only. Returns the source as counted (IPv6: its /64)."""
    authorize(actor, Permission.USERS_MANAGE)
    source = source_of(address)
    if source == "unknown":
        raise BadAddress(
            f"{address!r} is not an IP address: give an IPv4 or IPv6 address, e.g. 192.0.2.10."
        )
    key = source_key(source, guard.secret)
    cleared = guard.store.forget(session, group=key)
    record(
        session,
        actor=actor,
        action="throttle.unblock_address",
        object_type="address",
        object_id=key[:16],
        details={"counters": cleared, **channel(actor)},
        request_id=request_id,
    )
    return source


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


# --- the steps: throttle check, password check, failure count, code check -------------------


def _blocked(
    session: Session, guard: Guard, email: str, source: str, now: dt.datetime
) -> tuple[int, int, str] | None:
    """(failures, seconds to wait, which throttle) when this account may not be tried from this
    source now; None when it may."""
    store, secret = guard.store, guard.secret
    by_source = store.tally(session, source_key(source, secret), now=now)
    if by_source.blocked(now):
        return by_source.failures, by_source.seconds_left(now), "source"
    pair = store.tally(session, pair_key(email, source, secret), now=now)
    if pair.blocked(now):
        return pair.failures, pair.seconds_left(now), "account_source"
    account = store.tally(session, throttle_key(email, secret), now=now)
    tried = pair.in_window(PER_ACCOUNT_AND_SOURCE.window, now)
    if account.blocked(now) and tried >= UNDER_ATTACK_FAILURES:
        wait = pair.seconds_left(now, pair.window_end(PER_ACCOUNT_AND_SOURCE.window))
        return tried, wait, "account_under_attack"
    return None


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    guard: Guard,
    source: str,
    now: dt.datetime | None = None,
) -> LoginResult:
    """Check an e-mail address and password from a source, counting failures (scenario 40)."""
    now = now or utcnow()
    user = find_user_by_email(session, email) if len(email) <= 254 else None
    blocked = _blocked(session, guard, email, source, now)
    if blocked is not None:
        return LoginResult(LoginOutcome.LOCKED, user, blocked[0], blocked[1], blocked[2])
    stored = user.password_hash if user is not None else passwords.dummy_hash()
    verified = passwords.verify_password(stored, password[: passwords.MAX_LENGTH * 4])
    if verified and user is not None and user.active:
        # The address proved it knows the password: its own counter for the account restarts.
        guard.store.reset(session, pair_key(user.email, source, guard.secret))
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        session.flush()
        return LoginResult(LoginOutcome.SUCCESS, user)
    return register_failure(session, guard=guard, email=email, source=source, user=user, now=now)


def register_failure(
    session: Session,
    *,
    guard: Guard,
    email: str,
    source: str,
    user: User | None,
    now: dt.datetime | None = None,
) -> LoginResult:
    """Count one failed sign-in step (password or second-factor code) of an account from a
    source: against the pair, the account and the source."""
    now = now or utcnow()
    store, secret = guard.store, guard.secret
    account_key = throttle_key(email, secret)
    pair = store.count_failure(
        session,
        pair_key(email, source, secret),
        PER_ACCOUNT_AND_SOURCE,
        group=account_key,
        now=now,
    )
    account = store.count_failure(session, account_key, ACCOUNT_CEILING, group=account_key, now=now)
    by_source = store.count_failure(
        session, source_key(source, secret), PER_SOURCE, group=source_key(source, secret), now=now
    )
    outcome, wait, reason = LoginOutcome.INVALID, 0, ""
    if pair.blocked(now):
        outcome, wait, reason = LoginOutcome.LOCKED_NOW, pair.seconds_left(now), "account_source"
    elif by_source.blocked(now):
        outcome, wait, reason = LoginOutcome.LOCKED_NOW, by_source.seconds_left(now), "source"
    elif account.blocked(now) and pair.failures >= UNDER_ATTACK_FAILURES:
        end = pair.window_end(PER_ACCOUNT_AND_SOURCE.window)
        outcome, wait, reason = (
            LoginOutcome.LOCKED_NOW,
            pair.seconds_left(now, end),
            "account_under_attack",
        )
    if user is not None:
        user.failed_logins = account.failures
        if pair.blocked_until is not None:
            user.locked_until = pair.blocked_until
    session.flush()
    return LoginResult(outcome, user, pair.failures, wait, reason)


def verify_totp(user: User, code: str, *, now: dt.datetime | None = None) -> bool:
    """Check a code against the user's secret, once only: the step is remembered."""
    if user.totp_secret is None:
        return False
    step = totp.matching_step(user.totp_secret, code, at=now or utcnow(), after=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True
