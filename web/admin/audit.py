"""The audit log page: newest first, filtered by action prefix, actor, object and dates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.auth import AuditReader
from api.deps import DbSession
from surveys.audit import service as audit
from web.forms import FormErrors, render

router = APIRouter(prefix="/admin", include_in_schema=False)

AUDIT_PER_PAGE = 50


def _day(value: str, field: str, errors: FormErrors) -> dt.datetime | None:
    text = value.strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        errors.setdefault(field, []).append("not a date; use YYYY-MM-DD")
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    session: DbSession,
    actor: AuditReader,
    action: Annotated[str, Query(max_length=60)] = "",
    actor_label: Annotated[str, Query(alias="actor", max_length=100)] = "",
    object_type: Annotated[str, Query(max_length=40)] = "",
    object_id: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The audit log, newest first, filtered by action prefix, actor, object and dates."""
    form = {
        "action": action,
        "actor": actor_label,
        "object_type": object_type,
        "object_id": object_id,
        "since": since,
        "until": until,
    }
    errors: FormErrors = {}
    start = _day(since, "since", errors)
    end = _day(until, "until", errors)
    filters = audit.AuditFilter(
        action=action or None,
        actor=actor_label or None,
        object_type=object_type or None,
        object_id=object_id or None,
        since=start,
        until=end + dt.timedelta(days=1) if end and end.year < 9999 else end,
    )
    result = audit.list_events(session, filters, page=page, per_page=AUDIT_PER_PAGE)
    return render(
        request,
        "admin/audit.html",
        {
            "result": result,
            "form": form,
            "errors": errors,
            "pages": max(1, -(-result.total // AUDIT_PER_PAGE)),
        },
        status=422 if errors else 200,
    )
