"""JSON API routes of data exports and dataset releases (see ``docs/exports.md``).

An export is checked and its ``export.start`` audit event written in the request's transaction;
the bytes are then streamed by a generator that opens its own snapshot session (the request's
session is closed by then), and its end is audited in a transaction of its own, with the SHA-256
of what was sent: ``export.complete``, or ``export.aborted`` when the stream broke off.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from api.auth import CampaignManager, Exporter, IdentifiedExporter
from api.deps import AppSettings, DbSession
from api.problems import PROBLEM_RESPONSES
from surveys.audit import service as audit
from surveys.db import transaction
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

logger = logging.getLogger("accessgap.exports")
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


def _deliver(
    factory: sessionmaker[Session], job: ExportJob, actor: Actor, request_id: str | None
) -> Iterator[bytes]:
    try:
        yield from service.stream_export(factory, job)
    finally:
        action = "export.complete" if job.delivery.complete else "export.aborted"
        try:
            with transaction(factory) as session:
                audit.record(
                    session,
                    actor=actor,
                    action=action,
                    object_type="export",
                    object_id=job.id,
                    details=job.end_details(),
                    request_id=request_id,
                )
        except Exception:
            logger.exception("could not audit the end of export %s", job.id)


def _stream(request: Request, session: Session, actor: Actor, job: ExportJob) -> StreamingResponse:
    request_id = getattr(request.state, "request_id", None)
    audit.record(
        session,
        actor=actor,
        action="export.start",
        object_type="export",
        object_id=job.id,
        details=job.start_details(),
        request_id=request_id,
    )
    factory: sessionmaker[Session] = request.app.state.session_factory
    return StreamingResponse(
        _deliver(factory, job, actor, request_id),
        media_type=job.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{job.filename}"',
            "Cache-Control": "no-store",
            "X-Export-Id": job.id,
        },
    )


@router.get("/exports/{format}", response_class=StreamingResponse, responses=FILE_RESPONSES)
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
    job = service.prepare_export(
        session,
        actor,
        format=format,
        filters=filters,
        options=_options(values, language, bom, plain),
        pseudonymised=True,
        pseudonym_secret=settings.pseudonym_secret,
    )
    return _stream(request, session, actor, job)


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
    job = service.prepare_export(
        session,
        actor,
        format=format,
        filters=filters,
        options=_options(values, language, bom, plain),
        pseudonymised=False,
        pseudonym_secret=settings.pseudonym_secret,
    )
    return _stream(request, session, actor, job)


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
    return [releases.to_read(r) for r in releases.list_releases(session, campaign=campaign)]


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
    release = releases.to_read(
        releases.create_release(
            session, data, created_by=actor.label, pseudonym_secret=settings.pseudonym_secret
        )
    )
    audit.record(
        session,
        actor=actor,
        action="release.create",
        object_type="dataset_release",
        object_id=release.id,
        details={
            "campaign": release.campaign,
            "number": release.number,
            "records": release.record_count,
            "sha256": release.content_sha256,
        },
        request_id=request.state.request_id,
    )
    response.headers["Location"] = f"/api/v1/releases/{release.id}"
    return release


ReleaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/releases/{release_id}")
def read_release(session: DbSession, actor: Exporter, release_id: ReleaseId) -> ReleaseRead:
    """One release: title, citation, number of records, content checksum."""
    return releases.to_read(releases.get_release(session, release_id))


@router.get(
    "/releases/{release_id}/download", response_class=StreamingResponse, responses=FILE_RESPONSES
)
def download_release(
    request: Request,
    session: DbSession,
    actor: Exporter,
    release_id: ReleaseId,
    format: Annotated[ExportFormat, Query()] = ExportFormat.DATAPACKAGE,
    values: Values = "codes",
    language: Language = None,
    bom: Bom = False,
    plain: Plain = False,
) -> StreamingResponse:
    """A release in any format; its data files are the same bytes at every download."""
    job = service.prepare_release_download(
        session,
        actor,
        release_id,
        format=format,
        options=_options(values, language, bom, plain),
    )
    return _stream(request, session, actor, job)
