"""The jobs page: long work asked from the pages, its progress, its result or why it failed.

Thin: each handler parses the form or the path, calls one use case of
:mod:`surveys.jobs.service`, renders or redirects. A job page refreshes itself every few
seconds while the job waits or runs (a plain ``<meta http-equiv="refresh">``: no script).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import AccountHolder, Exporter, MapReader
from api.deps import DbSession
from surveys.exports.schemas import ExportFormat
from surveys.jobs import service
from surveys.policy import Permission
from web.forms import PostedForm, clean_text, request_id
from web.templating import templates

router = APIRouter(include_in_schema=False)
REFRESH_SECONDS = 3


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, session: DbSession, actor: AccountHolder) -> HTMLResponse:
    """The actor's jobs (everyone's for a coordinator), newest first, and the export form."""
    return templates.TemplateResponse(
        request,
        "jobs/index.html",
        {
            "jobs": service.list_jobs(session, actor),
            "formats": [f.value for f in ExportFormat],
            "may_export": Permission.EXPORT_PSEUDONYMISED in actor.permissions,
            "may_identify": Permission.EXPORT_IDENTIFIED in actor.permissions,
        },
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    request: Request, session: DbSession, actor: AccountHolder, job_id: int
) -> HTMLResponse:
    """One job: its progress while it runs, its result or the reason it failed."""
    job = service.get_job(session, actor, job_id)
    return templates.TemplateResponse(
        request,
        "jobs/job.html",
        {"job": job, "refresh": REFRESH_SECONDS if job.status in ("queued", "running") else None},
    )


@router.get("/jobs/{job_id}/result")
def job_result(request: Request, session: DbSession, actor: AccountHolder, job_id: int) -> Response:
    """The file the job produced."""
    result = service.download_result(session, actor, job_id, request_id=request_id(request))
    return Response(
        result.content,
        media_type=result.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{result.filename}"',
            "Cache-Control": "no-store",
            "X-Content-SHA256": result.sha256,
        },
    )


@router.post("/maps/{slug}/figure-series")
def figure_series_job(
    request: Request, session: DbSession, actor: MapReader, slug: str, posted: PostedForm
) -> RedirectResponse:
    """Draw a series of figures (one unit) in the background; go to its job page."""
    params = {
        "campaign": slug,
        "indicators": [clean_text(str(v), 100) for v in posted.getlist("indicator")],
        "level": clean_text(str(posted.get("level", "country")), 10),
        "format": clean_text(str(posted.get("format", "svg")), 5),
        "scheme": clean_text(str(posted.get("scheme", "quantiles")), 20),
        "classes": 5,
    }
    job = service.submit_job(
        session, actor, "figure_series", params, request_id=request_id(request)
    )
    return RedirectResponse(f"/jobs/{job.id}", 303)


@router.post("/jobs/exports")
def export_job(
    request: Request, session: DbSession, actor: Exporter, posted: PostedForm
) -> RedirectResponse:
    """Export a dataset in the background; go to its job page."""
    campaign = clean_text(str(posted.get("campaign", "")), 100).strip()
    params = {
        "format": clean_text(str(posted.get("format", "csv")), 20),
        "filters": {"campaign": campaign} if campaign else {},
        "options": {},
        "pseudonymised": posted.get("identified") != "yes",
    }
    job = service.submit_job(
        session, actor, "dataset_export", params, request_id=request_id(request)
    )
    return RedirectResponse(f"/jobs/{job.id}", 303)
