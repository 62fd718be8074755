"""Administration pages: users and roles, API tokens, researcher grants, the audit log, centre
import, boundaries and centre placement, privacy.

Thin adapters like every page: parse the form, call one use case (it checks the permission and
records its own audit event), render. Forms re-render with the input kept and errors next to
each field (422).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.auth import AuditReader
from web.admin import audit, centres, geo, grants, privacy, tokens, users
from web.forms import render

router = APIRouter(include_in_schema=False)


@router.get("/admin", response_class=HTMLResponse)
def admin_index(request: Request, actor: AuditReader) -> HTMLResponse:
    """What an administrator or coordinator can manage from here."""
    return render(request, "admin/index.html", {"permissions": actor.permissions})


router.include_router(users.router)
router.include_router(tokens.router)
router.include_router(grants.router)
router.include_router(audit.router)
router.include_router(centres.router)
router.include_router(geo.router)
router.include_router(privacy.router)
