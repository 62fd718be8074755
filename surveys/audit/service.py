"""Writing and reading the audit log.

Pattern (docs/security.md): a state-changing use case is one service function that takes the
actor and the request id, checks the permission, changes the data and calls :func:`record` itself,
in the same transaction, so the change and its event commit or roll back together and no adapter
(API route, page, CLI command) can forget it. Adapters never call :func:`record`; an
import-linter contract and a test keep it that way.

Details hold ids, field names, counts and hashes: never a password, token, TOTP secret, e-mail
address or contact value. :func:`record` enforces that by refusing such keys and by redacting
anything that looks like an e-mail address.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.audit.models import AuditEvent
from surveys.policy import Actor

FORBIDDEN_KEYS = (
    "password",
    "secret",
    "token",
    "totp",
    "otp",
    "email",
    "e-mail",
    "phone",
    "cookie",
    "session",
)
# Keys that name a thing about a secret, not the secret itself.
ALLOWED_KEYS = frozenset({"token_id", "token_name", "session_id", "sessions_ended", "scopes"})
_EMAIL = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+\.[A-Za-z]{2,}")
MAX_PAGE = 200


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _EMAIL.sub("[redacted]", value)[:500]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items() if _allowed_key(str(k))}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    if isinstance(value, bool | int | float) or value is None:
        return value
    return _clean(str(value))


def _allowed_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in ALLOWED_KEYS or not any(word in lowered for word in FORBIDDEN_KEYS)


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: str | int | None = None,
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    """Append one event (``action`` like ``centre.create``); flushes, never commits."""
    event = AuditEvent(
        actor=actor.label[:100],
        actor_role=actor.role.value if actor.role is not None else None,
        action=action[:60],
        object_type=object_type[:40] if object_type else None,
        object_id=str(object_id)[:64] if object_id is not None else None,
        request_id=request_id[:36] if request_id else None,
        details=_clean(details or {}),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit log view; every one optional."""

    action: str | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    total: int
    page: int
    per_page: int


def list_events(
    session: Session, filters: AuditFilter, *, page: int = 1, per_page: int = 50
) -> AuditPage:
    """Events matching the filters, newest first. ``action`` matches a prefix (``login``)."""
    page = max(page, 1)
    per_page = min(max(per_page, 1), MAX_PAGE)
    conditions = []
    if filters.action:
        conditions.append(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.actor:
        conditions.append(AuditEvent.actor == filters.actor)
    if filters.object_type:
        conditions.append(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        conditions.append(AuditEvent.object_id == filters.object_id)
    if filters.since:
        conditions.append(AuditEvent.at >= filters.since)
    if filters.until:
        conditions.append(AuditEvent.at < filters.until)
    total = session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0
    items = list(
        session.scalars(
            select(AuditEvent)
            .where(*conditions)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return AuditPage(items=items, total=total, page=page, per_page=per_page)
