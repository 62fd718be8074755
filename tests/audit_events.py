"""Reading back the audit events a use case recorded (the tests of every use-case family)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.audit.models import AuditEvent


def events(session: Session, action: str | None = None) -> list[AuditEvent]:
    """The events recorded so far, oldest first (those of one action, when given)."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))


def last_event(session: Session, action: str) -> AuditEvent:
    """The newest event of an action (the test fails when there is none)."""
    found = events(session, action)
    assert found, f"no {action} event was recorded"
    return found[-1]
