"""The audit log: what an event holds, what it never holds, filters, and append-only storage."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from surveys.audit import service as audit
from surveys.audit.models import AuditEvent
from surveys.policy import ANONYMOUS, staff_actor, system_actor


def test_an_event_names_the_actor_by_id_and_role(session: Session) -> None:
    actor = staff_actor(user_id=12, role="coordinator")
    event = audit.record(
        session,
        actor=actor,
        action="centre.update",
        object_type="centre",
        object_id="abc",
        details={"fields": ["city"], "version": 3},
        request_id="r-1",
    )
    assert (event.actor, event.actor_role, event.action) == (
        "user:12",
        "coordinator",
        "centre.update",
    )
    assert event.details == {"fields": ["city"], "version": 3}


def test_secrets_and_personal_data_never_reach_the_log(session: Session) -> None:
    event = audit.record(
        session,
        actor=ANONYMOUS,
        action="login.failure",
        details={
            "password": "hunter2hunter2",
            "new_password": "x",
            "token": "agt_secret",
            "totp_code": "123456",
            "email": "someone@example.org",
            "note": "wrote to someone@example.org about it",
            "nested": {"session_cookie": "abc", "count": 2},
            "token_id": 4,
        },
    )
    text_form = str(event.details)
    for secret in ("hunter2", "agt_secret", "123456", "someone@example.org", "abc"):
        assert secret not in text_form
    assert event.details["note"] == "wrote to [redacted] about it"
    assert event.details["nested"] == {"count": 2}
    assert event.details["token_id"] == 4


def test_filters_and_paging(session: Session) -> None:
    cli = system_actor()
    for action in ("login.success", "login.failure", "user.create"):
        audit.record(session, actor=cli, action=action, object_type="user", object_id="7")
    page = audit.list_events(session, audit.AuditFilter(action="login."), per_page=1)
    assert page.total >= 2
    assert len(page.items) == 1
    only = audit.list_events(session, audit.AuditFilter(action="user.create", object_id="7"))
    assert [e.action for e in only.items] == ["user.create"]
    future = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)
    assert audit.list_events(session, audit.AuditFilter(since=future)).total == 0
    assert audit.list_events(session, audit.AuditFilter(action="%")).total == 0  # no wildcard


@pytest.mark.parametrize("statement", ["update", "delete"])
def test_the_database_refuses_to_change_or_delete_events(session: Session, statement: str) -> None:
    event = audit.record(session, actor=system_actor(), action="centre.create")
    query = (
        update(AuditEvent).where(AuditEvent.id == event.id).values(action="tampered")
        if statement == "update"
        else delete(AuditEvent).where(AuditEvent.id == event.id)
    )
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(query)
    assert (
        session.execute(
            text("SELECT action FROM audit_event WHERE id = :id"), {"id": event.id}
        ).scalar()
        == "centre.create"
    )
