"""Running an export in a test and opening what it gives."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from surveys.exports import service
from surveys.exports.jobs import ExportJob
from surveys.exports.schemas import ExportFilter, ExportFormat, ExportOptions
from surveys.policy import Actor, system_actor

SECRET = "test-pseudonym-" + "y" * 32
NO_DISCLOSURE_CONTROL = 1  # k = 1: every centre is its own group


def run_export(
    session: Session,
    factory: sessionmaker[Session],
    format: ExportFormat | str,
    *,
    filters: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    pseudonymised: bool = True,
    secret: str = SECRET,
    actor: Actor | None = None,
    min_centres: int = NO_DISCLOSURE_CONTROL,
) -> tuple[ExportJob, bytes]:
    """Prepare and stream an export. The format tests run on worlds of three centres, which
    k-anonymity would suppress, so they ask for k = 1 unless they pass ``min_centres``
    (disclosure control is tested in ``test_disclosure.py``)."""
    session.flush()
    job = service.prepare_export(
        session,
        actor or system_actor(),
        format=ExportFormat(format),
        filters=ExportFilter.model_validate(filters or {}),
        options=ExportOptions.model_validate(options or {}),
        pseudonymised=pseudonymised,
        pseudonym_secret=secret,
        min_centres=min_centres,
    )
    return job, b"".join(service.stream_export(factory, job))


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert bundle.testzip() is None
        return {name: bundle.read(name) for name in bundle.namelist()}
