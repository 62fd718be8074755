"""The boundaries page for coordinators: NUTS versions, centres placed by proximity or not at
all (with their coordinates, to be checked), and areas whose denominators are stand-ins."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.auth import RegistryWriter
from api.deps import DbSession
from mapping import versions
from web.forms import render

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/geo", response_class=HTMLResponse)
def boundaries_page(request: Request, session: DbSession, actor: RegistryWriter) -> HTMLResponse:
    """NUTS versions, centre placement and denominator coverage, for checking after imports."""
    report = versions.placement_report(session, actor)
    return render(request, "admin/geo.html", {"report": report})
