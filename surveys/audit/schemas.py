"""Schemas of the audit log as the API returns it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from surveys.schemas import Schema


class AuditEventRead(Schema):
    id: int
    at: dt.datetime
    actor: str
    actor_role: str | None
    action: str
    object_type: str | None
    object_id: str | None
    request_id: str | None
    details: dict[str, Any]


class AuditEventPage(Schema):
    items: list[AuditEventRead]
    total: int
    page: int
    per_page: int
