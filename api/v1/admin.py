"""JSON routes for administrators: the audit log, filtered and paged."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from api.auth import AuditReader
from api.deps import DbSession
from api.problems import PROBLEM_RESPONSES
from surveys.audit import service as audit
from surveys.audit.schemas import AuditEventPage, AuditEventRead

router = APIRouter(tags=["audit"], responses=PROBLEM_RESPONSES)

Short = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")]
# RFC 3339 date-time, as the schema's ``format: date-time`` says (pydantic alone would also take
# a bare date or a number of seconds, such as ``0.5``).
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: object) -> object:
    if isinstance(value, str) and not _RFC3339.match(value):
        raise ValueError("not an RFC 3339 date-time; write it like 2026-11-29T12:00:00Z")
    return value


Moment = Annotated[dt.datetime | None, BeforeValidator(_rfc3339), Query()]


@router.get("/audit-events")
def list_audit_events(
    session: DbSession,
    actor: AuditReader,
    action: Short = None,
    actor_label: Annotated[
        str | None, Query(alias="actor", max_length=100, pattern=r"^[^\x00]*$")
    ] = None,
    object_type: Short = None,
    object_id: Short = None,
    since: Moment = None,
    until: Moment = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 50,
) -> AuditEventPage:
    """Audit events, newest first; ``action`` matches a prefix (``login`` finds every sign-in)."""
    filters = audit.AuditFilter(
        action=action,
        actor=actor_label,
        object_type=object_type,
        object_id=object_id,
        since=_aware(since),
        until=_aware(until),
    )
    result = audit.list_events(session, filters, page=page, per_page=per_page)
    return AuditEventPage(
        items=[AuditEventRead.model_validate(e) for e in result.items],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
    )


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """The filter time in UTC; a naive time is read as UTC, an extreme one is clamped."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        edge = dt.datetime.min if value.year < 1000 else dt.datetime.max
        return edge.replace(tzinfo=dt.UTC)
