"""Big exports as background jobs: the same export as the download route, written into the
job's result instead of the response, with its audit trail (``export.start``,
``export.complete``) recorded by the export use cases themselves.

Parameters: ``format`` (an :class:`~surveys.exports.schemas.ExportFormat`), ``filters`` and
``options`` (as the route takes them), ``pseudonymised`` (true unless the actor may export
identified data and asked for it). The pseudonym secret is the worker's own setting
(``secrets["pseudonym_secret"]``), never stored with the job.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from surveys.db import transaction
from surveys.errors import InvalidInput
from surveys.exports import service
from surveys.exports.schemas import ExportFilter, ExportFormat, ExportOptions
from surveys.jobs.kinds import JobContext, JobKind, JobOutput, register
from surveys.policy import Actor, Permission

KIND = "dataset_export"
PROGRESS_EVERY = 250
"""Records between two progress reports (each is a small write)."""
CHECK_SECRET = "parameter-check-only"  # noqa: S105 - keys no pseudonym that leaves the check
"""Checking the parameters pseudonymises nothing; the real secret is the worker's."""


def _parsed(params: Mapping[str, Any]) -> tuple[ExportFormat, ExportFilter, ExportOptions, bool]:
    try:
        fmt = ExportFormat(params.get("format", "csv"))
    except ValueError:
        known = ", ".join(f.value for f in ExportFormat)
        raise InvalidInput(f"Unknown export format; use one of {known}.") from None
    return (
        fmt,
        ExportFilter.model_validate(params.get("filters", {})),
        ExportOptions.model_validate(params.get("options", {})),
        bool(params.get("pseudonymised", True)),
    )


def check(session: Session, actor: Actor, params: Mapping[str, Any]) -> str:
    fmt, filters, options, pseudonymised = _parsed(params)
    service.prepare_export(
        session,
        actor,
        format=fmt,
        filters=filters,
        options=options,
        pseudonymised=pseudonymised,
        pseudonym_secret=CHECK_SECRET,
    )
    scope = filters.campaign or "every campaign"
    kind = "pseudonymised" if pseudonymised else "identified"
    return f"Dataset export ({fmt.value}, {kind}) of {scope}"


def run(context: JobContext) -> JobOutput:
    fmt, filters, options, pseudonymised = _parsed(context.params)
    request_id = f"job-{context.job_id}-{uuid.uuid4().hex[:8]}"
    with transaction(context.factory) as session:
        job = service.start_export(
            session,
            context.actor,
            format=fmt,
            filters=filters,
            options=options,
            pseudonymised=pseudonymised,
            pseudonym_secret=context.secrets["pseudonym_secret"],
            request_id=request_id,
        )
    written = [0]

    def rows(count: int) -> None:
        written[0] += count
        if written[0] % PROGRESS_EVERY == 0:
            context.progress(written[0], job.total, f"{written[0]:,} records written")

    job.progress = rows
    content = b"".join(
        service.deliver_export(context.factory, context.actor, job, request_id=request_id)
    )
    media = "text/csv" if job.plain and fmt is ExportFormat.CSV_LONG else "application/zip"
    if job.plain and fmt is ExportFormat.GEOJSON:
        media = "application/geo+json"
    return JobOutput(job.filename, media, content)


DATASET_EXPORT = register(
    JobKind(
        name=KIND,
        permission=Permission.EXPORT_PSEUDONYMISED,
        check=check,
        run=run,
    )
)
