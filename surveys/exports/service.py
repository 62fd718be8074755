"""Exports: who may have which, what goes in, and how the bytes leave.

An export is prepared in the request's transaction (:func:`prepare_export`: permission, filters,
options; a mistake is a 403/404/422 before any byte is sent) and then produced by
:func:`stream_export` (HTTP) or :func:`write_export` (command line), which open **their own
session** in a snapshot: PostgreSQL ``REPEATABLE READ, READ ONLY``; SQLite one deferred read
transaction, which in WAL mode sees one snapshot for its whole life and blocks no writer. Every
file of the export is then read from that one snapshot, however many passes it takes (one per
table), so the row counts match the data at the export's start and no half-committed edit or
draft can appear.

Rows come from a server-side cursor in batches (``yield_per``) and leave as chunks; only SPSS and
Stata files are built in memory, one table at a time (pyreadstat writes from a data frame).
The result (row counts, SHA-256 of every file and of the delivered archive) is the manifest:
inside the zip as ``manifest.json`` and, for the end's audit event, on ``job.manifest``.

The use cases audit themselves. :func:`start_export` (or :func:`start_release_download`) records
``export.start`` in the request's transaction, before any byte leaves; :func:`deliver_export`
(HTTP) and :func:`write_export` (command line) record the end in a transaction of their own,
with the SHA-256 of what was sent: ``export.complete``, or ``export.aborted`` when the
delivery broke off.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session, sessionmaker

from surveys.audit.channel import channel
from surveys.audit.models import AuditEvent
from surveys.audit.service import record
from surveys.campaigns.grants import check_readable, readable_campaigns
from surveys.campaigns.lifecycle import get_campaign
from surveys.db import transaction, utcnow
from surveys.errors import FieldError, RateLimited
from surveys.exports.bundles import build_manifest, export_files, plan_export
from surveys.exports.errors import ExportForbidden, ExportNotFound, UnsupportedExport
from surveys.exports.jobs import ExportJob
from surveys.exports.manifest import plain_chunks, write_folder, zip_chunks
from surveys.exports.models import DatasetRelease, DatasetReleaseRecord
from surveys.exports.pseudonyms import Pseudonymiser
from surveys.exports.records import (
    LiveSource,
    version_ids,
)
from surveys.exports.releases import read_release, release_name, verify_release
from surveys.exports.schemas import (
    RELEASE_FORMATS,
    SINGLE_FILE_FORMATS,
    ExportFilter,
    ExportFormat,
    ExportOptions,
    Manifest,
)
from surveys.policy import Actor, Permission, Role
from surveys.questionnaires.models import QuestionnaireVersion

EXPORT_ACTIONS = ("export.complete", "export.aborted")
# RELIABILITY section 3.4: at most 20 exports an hour per researcher (anti-exfiltration).
DEFAULT_EXPORTS_PER_HOUR = 20
EXPORT_RATE_WINDOW = dt.timedelta(hours=1)

logger = logging.getLogger("accessgap.exports")


class ExportRateLimited(RateLimited):
    code = "export_rate_limited"
    title = "Too many exports"


def _authorize(actor: Actor, *, pseudonymised: bool) -> None:
    if Permission.EXPORT_PSEUDONYMISED not in actor.permissions:
        raise ExportForbidden("Your account may not download exports.")
    if not pseudonymised and Permission.EXPORT_IDENTIFIED not in actor.permissions:
        raise ExportForbidden(
            "Identified exports are for coordinators; your account gets pseudonymised data only."
        )


def _check_options(format: ExportFormat, options: ExportOptions) -> None:
    if options.plain and format not in SINGLE_FILE_FORMATS:
        raise UnsupportedExport(
            f"A {format.value} export has several files and comes as a zip; "
            f"only {', '.join(sorted(f.value for f in SINGLE_FILE_FORMATS))} can be plain.",
            errors=[FieldError(("query", "plain"), "not available for this format")],
        )


def _check_language(session: Session, ids: list[int], language: str | None) -> None:
    if language is None or not ids:
        return
    definitions = session.scalars(
        select(QuestionnaireVersion.definition).where(QuestionnaireVersion.id.in_(ids))
    )
    offered = sorted({lang for d in definitions for lang in d.get("languages", [])})
    if language not in offered:
        raise UnsupportedExport(
            f"No questionnaire in this export has labels in {language!r}; "
            f"use one of {', '.join(offered)}.",
            errors=[FieldError(("query", "language"), "not a language of these questionnaires")],
        )


def prepare_export(
    session: Session,
    actor: Actor,
    *,
    format: ExportFormat,
    filters: ExportFilter,
    options: ExportOptions,
    pseudonymised: bool,
    pseudonym_secret: str,
    now: dt.datetime | None = None,
) -> ExportJob:
    """Check an export request (403, 404, 422 come from here) and describe the job."""
    _authorize(actor, pseudonymised=pseudonymised)
    _check_options(format, options)
    allowed = readable_campaigns(session, actor)
    campaigns = None if allowed is None else tuple(sorted(allowed))
    if filters.campaign is not None:
        check_readable(session, actor, filters.campaign)
        get_campaign(session, filters.campaign)
    if options.language is not None:
        source = LiveSource(
            filters,
            Pseudonymiser(pseudonym_secret),
            pseudonymised=pseudonymised,
            campaigns=campaigns,
        )
        _check_language(session, version_ids(session, source), options.language)
    return ExportJob(
        id=str(uuid.uuid4()),
        format=format,
        filters=filters,
        options=options,
        pseudonymised=pseudonymised,
        pseudonym_secret=pseudonym_secret,
        generated_at=now or utcnow(),
        actor_label=actor.label,
        campaigns=campaigns,
    )


def prepare_release_download(
    session: Session,
    actor: Actor,
    release_id: int,
    *,
    format: ExportFormat,
    options: ExportOptions,
    now: dt.datetime | None = None,
) -> ExportJob:
    """A download of a sealed release, checked against its checksum first."""
    _authorize(actor, pseudonymised=True)
    _check_options(format, options)
    if format not in RELEASE_FORMATS:
        raise UnsupportedExport(
            "A release holds answers, not centre locations: there is no GeoJSON of it.",
            errors=[FieldError(("query", "format"), "not available for releases")],
        )
    release = read_release(session, actor, release_id)
    verify_release(session, release)
    _check_language(session, _release_version_ids(session, release), options.language)
    name = release_name(release.campaign.slug, release.number)
    return ExportJob(
        id=str(uuid.uuid4()),
        format=format,
        filters=ExportFilter(campaign=release.campaign.slug, status=["approved"]),
        options=options,
        pseudonymised=True,
        pseudonym_secret="",
        generated_at=now or utcnow(),
        actor_label=actor.label,
        release={
            "id": release.id,
            "name": name,
            "number": release.number,
            "content_sha256": release.content_sha256,
            "citation": release.citation,
            "created_at": release.created_at.isoformat(),
        },
        release_id=release.id,
    )


def _release_version_ids(session: Session, release: DatasetRelease) -> list[int]:
    return sorted(
        set(
            session.scalars(
                select(DatasetReleaseRecord.questionnaire_version_id)
                .where(DatasetReleaseRecord.release_id == release.id)
                .distinct()
            )
        )
    )


def check_export_rate(
    session: Session, actor: Actor, *, per_hour: int, now: dt.datetime | None = None
) -> None:
    """Refuse a researcher's export past ``per_hour`` in the last hour (429 with the wait).

    The count is the ``export.start`` events of the user (by session or any token) in the
    audit log, which every worker shares; 0 means no limit. Other roles are not limited.
    """
    if per_hour <= 0 or actor.role is not Role.RESEARCHER or actor.user_id is None:
        return
    now = now or utcnow()
    since = now - EXPORT_RATE_WINDOW
    mine = or_(
        AuditEvent.actor == f"user:{actor.user_id}",
        AuditEvent.actor.startswith(f"user:{actor.user_id}/", autoescape=True),
    )
    started = list(
        session.scalars(
            select(AuditEvent.at)
            .where(AuditEvent.action == "export.start", AuditEvent.at > since, mine)
            .order_by(AuditEvent.at.desc())
            .limit(per_hour)
        )
    )
    if len(started) < per_hour:
        return
    # The oldest of the last ``per_hour`` starts leaves the window first.
    wait = int((started[-1] + EXPORT_RATE_WINDOW - now).total_seconds()) + 1
    raise ExportRateLimited(
        f"You have started {per_hour} exports in the last hour, the most a researcher account "
        f"may. Try again in {wait} seconds, or reuse a file you already downloaded.",
        retry_after=wait,
    )


def start_export(
    session: Session,
    actor: Actor,
    *,
    format: ExportFormat,
    filters: ExportFilter,
    options: ExportOptions,
    pseudonymised: bool,
    pseudonym_secret: str,
    request_id: str | None,
    exports_per_hour: int = DEFAULT_EXPORTS_PER_HOUR,
) -> ExportJob:
    """Check an export request (:func:`prepare_export`) and record ``export.start``."""
    check_export_rate(session, actor, per_hour=exports_per_hour)
    job = prepare_export(
        session,
        actor,
        format=format,
        filters=filters,
        options=options,
        pseudonymised=pseudonymised,
        pseudonym_secret=pseudonym_secret,
    )
    _record(session, actor, "export.start", job, job.start_details(), request_id)
    return job


def start_release_download(
    session: Session,
    actor: Actor,
    release_id: int,
    *,
    format: ExportFormat,
    options: ExportOptions,
    request_id: str | None,
    exports_per_hour: int = DEFAULT_EXPORTS_PER_HOUR,
) -> ExportJob:
    """Check a release download (:func:`prepare_release_download`) and record ``export.start``."""
    check_export_rate(session, actor, per_hour=exports_per_hour)
    job = prepare_release_download(session, actor, release_id, format=format, options=options)
    _record(session, actor, "export.start", job, job.start_details(), request_id)
    return job


def deliver_export(
    factory: sessionmaker[Session], actor: Actor, job: ExportJob, *, request_id: str | None
) -> Iterator[bytes]:
    """The export's bytes (:func:`stream_export`); when they stop, the end is audited.

    A failure to record the end is logged, never raised: the client has its bytes by then.
    """
    try:
        yield from stream_export(factory, job)
    finally:
        try:
            _record_end(factory, actor, job, request_id)
        except Exception:
            logger.exception("could not audit the end of export %s", job.id)


def write_export(
    factory: sessionmaker[Session],
    actor: Actor,
    job: ExportJob,
    folder: Path,
    *,
    request_id: str | None,
) -> Path:
    """Write the export's files into a folder (the command line); returns the manifest's path.

    The end is audited whether the writing finished or broke off.
    """
    try:
        with snapshot_session(factory) as session:
            plan = plan_export(session, job)
            path = write_folder(
                export_files(session, plan, job),
                folder,
                finish=lambda delivery: build_manifest(job, plan, delivery, complete=True),
                delivery=job.delivery,
            )
            job.manifest = build_manifest(job, plan, job.delivery, complete=True)
    finally:
        _record_end(factory, actor, job, request_id)
    return path


def _record_end(
    factory: sessionmaker[Session], actor: Actor, job: ExportJob, request_id: str | None
) -> None:
    action = "export.complete" if job.delivery.complete else "export.aborted"
    with transaction(factory) as session:
        _record(session, actor, action, job, job.end_details(), request_id)


def _record(
    session: Session,
    actor: Actor,
    action: str,
    job: ExportJob,
    details: dict[str, Any],
    request_id: str | None,
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        object_type="export",
        object_id=job.id,
        details={**details, **channel(actor)},
        request_id=request_id,
    )


@contextmanager
def snapshot_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose reads all see one snapshot of the database, and that writes nothing.

    A session bound to a connection that is already in a transaction (the tests' rolled-back
    connection) reads inside that transaction instead.
    """
    with factory() as session:
        bind = session.get_bind()
        if isinstance(bind, Engine):
            if bind.dialect.name == "postgresql":
                session.connection(
                    execution_options={
                        "isolation_level": "REPEATABLE READ",
                        "postgresql_readonly": True,
                    }
                )
            else:
                session.connection(execution_options={"sqlite_deferred": True})
        try:
            yield session
        finally:
            session.rollback()


def stream_export(factory: sessionmaker[Session], job: ExportJob) -> Iterator[bytes]:
    """The export's bytes (a zip, or the bare file), read in one snapshot by its own session.

    When the generator is exhausted, ``job.manifest`` holds the manifest with the SHA-256 of
    what was sent; a generator closed early leaves ``job.delivery.complete`` false.
    """
    with snapshot_session(factory) as session:
        plan = plan_export(session, job)
        files = export_files(session, plan, job)
        try:
            if job.plain:
                yield from plain_chunks(next(files), delivery=job.delivery)
            else:
                yield from zip_chunks(
                    files,
                    name=job.filename,
                    finish=lambda delivery: build_manifest(job, plan, delivery, complete=True),
                    delivery=job.delivery,
                )
        finally:
            job.manifest = build_manifest(job, plan, job.delivery, complete=job.delivery.complete)


def get_manifest(session: Session, actor: Actor, export_id: str) -> Manifest:
    """The manifest of a finished export: the caller's own, or any with ``audit:read``."""
    query = select(AuditEvent).where(
        AuditEvent.object_type == "export",
        AuditEvent.object_id == export_id,
        AuditEvent.action.in_(EXPORT_ACTIONS),
    )
    if Permission.AUDIT_READ not in actor.permissions:
        label = f"user:{actor.user_id}" if actor.user_id is not None else actor.label
        query = query.where(
            or_(AuditEvent.actor == label, AuditEvent.actor.startswith(label + "/"))
        )
    event = session.scalar(query.order_by(AuditEvent.id.desc()).limit(1))
    if event is None or not isinstance(event.details.get("manifest"), dict):
        raise ExportNotFound("No finished export has this id.")
    return Manifest.model_validate(event.details["manifest"])
