"""Use cases of staff accounts: create, change role or scope, deactivate; one's own password and
second factor.

Each use case checks the actor's permission, changes the data and records its audit event in the
same transaction (flushed, never committed); the admin pages, the account page and the CLI call
these and nothing else that changes an account. Sign-in, its lockout and sign-out live in
:mod:`surveys.accounts.signin`.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveys.accounts import passwords, totp
from surveys.accounts.errors import (
    EmailTaken,
    LastAdmin,
    UserNotFound,
    WeakPassword,
    WrongPassword,
)
from surveys.accounts.models import StaffSession, User
from surveys.accounts.schemas import UserCreate, UserRead, UserRoleChange
from surveys.accounts.sessions import end_user_sessions
from surveys.audit.channel import channel
from surveys.audit.service import record
from surveys.db import utcnow
from surveys.errors import FieldError
from surveys.policy import Actor, Permission, authorize, staff_actor


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


def actor_of(user: User) -> Actor:
    """The actor a user becomes once signed in (how their own events are labelled)."""
    return staff_actor(
        user_id=user.id, role=user.role, domains=user.domains, countries=user.countries
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


def _own_user(session: Session, actor: Actor) -> User:
    if actor.user_id is None:
        raise UserNotFound("This needs a signed-in user.")
    return get_user(session, actor.user_id)


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.email)))


# --- managing accounts (users:manage) --------------------------------------------------------


def create_user(
    session: Session,
    actor: Actor,
    data: UserCreate,
    *,
    request_id: str | None,
    with_totp: bool = False,
) -> User:
    """A new staff account; the password must pass the policy and the e-mail be unused."""
    authorize(actor, Permission.USERS_MANAGE)
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
    record(
        session,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        details={
            "role": user.role,
            "domains": user.domains,
            "countries": user.countries,
            **channel(actor),
        },
        request_id=request_id,
    )
    return user


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))
        )
        or 0
    )


def change_role(
    session: Session, actor: Actor, user_id: int, data: UserRoleChange, *, request_id: str | None
) -> User:
    """Give a user another role or scope; their sessions end (a new id at privilege change).

    The last active admin cannot be demoted.
    """
    authorize(actor, Permission.USERS_MANAGE)
    user = get_user(session, user_id)
    previous = user.role
    if previous == "admin" and data.role.value != "admin" and _active_admins(session) <= 1:
        raise LastAdmin("This is the last active administrator; make someone else admin first.")
    user.role = data.role.value
    user.domains = list(data.domains)
    user.countries = list(data.countries)
    session.flush()
    end_user_sessions(session, user.id)
    record(
        session,
        actor=actor,
        action="user.role_change",
        object_type="user",
        object_id=user.id,
        details={
            "from": previous,
            "to": user.role,
            "domains": user.domains,
            "countries": user.countries,
            **channel(actor),
        },
        request_id=request_id,
    )
    return user


def set_active(
    session: Session, actor: Actor, user_id: int, *, active: bool, request_id: str | None
) -> User:
    """Deactivate (or reactivate) an account; deactivation ends its sessions at once."""
    authorize(actor, Permission.USERS_MANAGE)
    user = get_user(session, user_id)
    if not active and user.role == "admin" and user.active and _active_admins(session) <= 1:
        raise LastAdmin("This is the last active administrator; make someone else admin first.")
    user.active = active
    session.flush()
    if not active:
        end_user_sessions(session, user.id)
    record(
        session,
        actor=actor,
        action="user.activate" if user.active else "user.deactivate",
        object_type="user",
        object_id=user.id,
        details=channel(actor),
        request_id=request_id,
    )
    return user


# --- one's own account (account:self) --------------------------------------------------------


def change_password(
    session: Session,
    actor: Actor,
    *,
    current_password: str,
    new_password: str,
    keep_session: int | None,
    request_id: str | None,
) -> User:
    """Change your own password (policy applies); every other session of yours ends.

    Raises :class:`WrongPassword` (naming ``current_password``) when the current one is wrong,
    :class:`WeakPassword` when the policy refuses the new one; nothing changes then.
    """
    authorize(actor, Permission.ACCOUNT)
    user = _own_user(session, actor)
    if not passwords.verify_password(user.password_hash, current_password):
        raise WrongPassword(
            "Your current password is not correct.",
            errors=[FieldError(("current_password",), "Your current password is not correct.")],
        )
    check_new_password(new_password, email=user.email, display_name=user.display_name)
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    session.flush()
    ended = end_user_sessions(session, user.id, keep=keep_session)
    record(
        session,
        actor=actor,
        action="user.password_change",
        object_type="user",
        object_id=user.id,
        details={"sessions_ended": ended},
        request_id=request_id,
    )
    return user


def start_totp_setup(session: Session, actor: Actor, current: StaffSession) -> bool:
    """Keep a new authenticator key on your session until you confirm a code from it.

    False when your account has a second factor already (there is nothing to set up).
    """
    authorize(actor, Permission.ACCOUNT)
    if _own_user(session, actor).totp_secret is not None:
        return False
    if current.pending_totp_secret is None:
        current.pending_totp_secret = totp.new_secret()
        session.flush()
    return True


def confirm_totp_setup(
    session: Session,
    actor: Actor,
    current: StaffSession | None,
    code: str,
    *,
    request_id: str | None,
) -> bool:
    """Turn your second factor on with a code from the key kept on your session.

    False when the code does not match (nothing changes; ask again). True otherwise: the factor
    is on, or there was nothing waiting for a code.
    """
    authorize(actor, Permission.ACCOUNT)
    user = _own_user(session, actor)
    if current is None or current.pending_totp_secret is None or user.totp_secret is not None:
        return True
    secret = current.pending_totp_secret
    step = totp.matching_step(secret, code, at=utcnow(), after=None)
    if step is None:
        return False
    enable_totp(session, user, secret, step=step)
    current.pending_totp_secret = None
    record(
        session,
        actor=actor,
        action="user.totp_enable",
        object_type="user",
        object_id=user.id,
        request_id=request_id,
    )
    return True


def enable_totp(session: Session, user: User, secret: str, *, step: int | None = None) -> None:
    """Turn the second factor on with a secret the user has proven to hold (a step of the use
    cases :func:`confirm_totp_setup` and :func:`surveys.accounts.signin.confirm_second_factor`,
    which audit it)."""
    user.totp_secret = secret
    user.totp_last_step = step
    session.flush()
