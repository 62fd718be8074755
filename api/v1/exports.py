"""JSON API routes of data exports and dataset releases (see ``docs/exports.md``).

An export is checked and its ``export.start`` audit event written in the request's transaction
(:func:`surveys.exports.service.start_export`); the bytes are then streamed by a generator that
opens its own snapshot session (the request's session is closed by then), and its end is
audited in a transaction of its own (:func:`surveys.exports.service.deliver_export`).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from api.auth import CampaignManager, Exporter, IdentifiedExporter
from api.deps import AppSettings, DbSession
from api.problems import PROBLEM_RESPONSES, RATE_LIMITED_RESPONSES
from surveys.exports import releases, service
from surveys.exports.jobs import ExportJob
from surveys.exports.schemas import (
    ExportFilter,
    ExportFormat,
    ExportOptions,
    Manifest,
    ReleaseCreate,
    ReleaseRead,
)
from surveys.policy import Actor

router = APIRouter(tags=["exports"], responses=PROBLEM_RESPONSES)

Values = Annotated[
    Literal["codes", "labels"], Query(description="Write choice codes, or labels in `language`.")
]
Language = Annotated[
    str | None, Query(pattern=r"^[a-z]{2,3}$", description="Label language (default: the form's).")
]
Bom = Annotated[bool, Query(description="Start CSV files with a UTF-8 byte-order mark (Excel).")]
Plain = Annotated[
    bool,
    Query(
        description="csv-long and geojson only: send the bare file instead of a zip; its "
        "manifest is then at /api/v1/exports/{export_id}/manifest."
    ),
]
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The export, streamed (chunked): a zip ending with manifest.json, or "
        "with `plain=true` the bare file. `X-Export-Id` names its manifest.",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in ("application/zip", "text/csv", "application/geo+json")
        },
    }
}


def _options(values: str, language: str | None, bom: bool, plain: bool) -> ExportOptions:
    return ExportOptions.model_validate(
        {"values": values, "language": language, "bom": bom, "plain": plain}
    )


def _stream(request: Request, actor: Actor, job: ExportJob) -> StreamingResponse:
    factory: sessionmaker[Session] = request.app.state.session_factory
    request_id = getattr(request.state, "request_id", None)
    return StreamingResponse(
        service.deliver_export(factory, actor, job, request_id=request_id),
        media_type=job.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{job.filename}"',
            "Cache-Control": "no-store",
            "X-Export-Id": job.id,
        },
    )


@router.get(
    "/exports/{format}",
    response_class=StreamingResponse,
    responses={**FILE_RESPONSES, **RATE_LIMITED_RESPONSES},
)
def export_pseudonymised(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: Exporter,
    format: ExportFormat,
    filters: Annotated[ExportFilter, Query()],
    values: Values = "codes",
    language: Language = None,
    bom: Bom = False,
    plain: Plain = False,
) -> StreamingResponse:
    """A pseudonymised export: no identifier questions, no centre names, keyed pseudonyms."""
    job = service.start_export(
        session,
        actor,
        format=format,
        filters=filters,
        options=_options(values, language, bom, plain),
        pseudonymised=True,
        pseudonym_secret=settings.pseudonym_secret,
        request_id=getattr(request.state, "request_id", None),
        exports_per_hour=settings.researcher_exports_per_hour,
    )
    return _stream(request, actor, job)


@router.get(
    "/exports/{format}/identified", response_class=StreamingResponse, responses=FILE_RESPONSES
)
def export_identified(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: IdentifiedExporter,
    format: ExportFormat,
    filters: Annotated[ExportFilter, Query()],
    values: Values = "codes",
    language: Language = None,
    bom: Bom = False,
    plain: Plain = False,
) -> StreamingResponse:
    """An identified export (coordinators): every question, centre ids and names."""
    job = service.start_export(
        session,
        actor,
        format=format,
        filters=filters,
        options=_options(values, language, bom, plain),
        pseudonymised=False,
        pseudonym_secret=settings.pseudonym_secret,
        request_id=getattr(request.state, "request_id", None),
    )
    return _stream(request, actor, job)


@router.get("/exports/{export_id}/manifest")
def export_manifest(session: DbSession, actor: Exporter, export_id: uuid.UUID) -> Manifest:
    """The manifest of one of your finished exports: row counts and SHA-256 of what was sent."""
    return service.get_manifest(session, actor, str(export_id))


@router.get("/releases")
def list_releases(
    session: DbSession,
    actor: Exporter,
    campaign: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")] = None,
) -> list[ReleaseRead]:
    """Sealed dataset releases, newest first, with their citations and checksums."""
    found = releases.list_releases(session, campaign=campaign, actor=actor)
    return [releases.to_read(r) for r in found]


@router.post("/releases", status_code=201)
def create_release(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: CampaignManager,
    data: ReleaseCreate,
    response: Response,
) -> ReleaseRead:
    """Freeze the campaign's approved responses as its next immutable, citable release."""
    release = releases.freeze_release(
        session,
        actor,
        data,
        pseudonym_secret=settings.pseudonym_secret,
        request_id=request.state.request_id,
    )
    response.headers["Location"] = f"/api/v1/releases/{release.id}"
    return releases.to_read(release)


ReleaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/releases/{release_id}")
def read_release(session: DbSession, actor: Exporter, release_id: ReleaseId) -> ReleaseRead:
    """One release: title, citation, number of records, content checksum."""
    return releases.to_read(releases.read_release(session, actor, release_id))


@router.get(
    "/releases/{release_id}/download",
    response_class=StreamingResponse,
    responses={**FILE_RESPONSES, **RATE_LIMITED_RESPONSES},
)
def download_release(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: Exporter,
    release_id: ReleaseId,
    format: Annotated[ExportFormat, Query()] = ExportFormat.DATAPACKAGE,
    values: Values = "codes",
    language: Language = None,
    bom: Bom = False,
    plain: Plain = False,
) -> StreamingResponse:
    """A release in any format; its data files are the same bytes at every download."""
    job = service.start_release_download(
        session,
        actor,
        release_id,
        format=format,
        options=_options(values, language, bom, plain),
        request_id=getattr(request.state, "request_id", None),
        exports_per_hour=settings.researcher_exports_per_hour,
    )
    return _stream(request, actor, job)
