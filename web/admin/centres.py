"""The centre import page: upload a centre list (CSV or XLSX), check it, then import it.

The upload is stored under a name of our own in the upload directory (the client's file name is
only checked and shown, never used as a path) and deleted after the import.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from api.auth import RegistryWriter
from api.deps import AppSettings, DbSession
from mapping.versions import place_centres
from surveys.registry.transfer import import_centre_list
from web.forms import FormText, render, request_id

router = APIRouter(prefix="/admin", include_in_schema=False)

UPLOAD_SUFFIXES = frozenset({".csv", ".xlsx"})


def _upload_name_problem(filename: str) -> str | None:
    """Why an uploaded file's name is refused (folders, traversal, odd characters), or None."""
    if not filename:
        return "Choose a CSV or XLSX file to upload."
    if (
        "/" in filename
        or "\\" in filename
        or ".." in filename
        or "\x00" in filename
        or filename != PurePosixPath(filename).name
        or filename != PureWindowsPath(filename).name
        or any(ord(c) < 32 for c in filename)
    ):
        return "The file name must not contain folders or '..'; upload the file itself."
    if PurePosixPath(filename).suffix.lower() not in UPLOAD_SUFFIXES:
        return "Upload a .csv or .xlsx file."
    return None


@contextmanager
def _stored(upload: BinaryIO, upload_dir: Path, suffix: str) -> Iterator[Path]:
    """The upload copied to a file of our own naming, deleted afterwards."""
    folder = upload_dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}{suffix}"
    if target.resolve().parent != folder:  # pragma: no cover - the name is ours
        raise RuntimeError("upload path escaped the upload directory")
    try:
        with target.open("wb") as out:
            shutil.copyfileobj(upload, out, 64 * 1024)
        yield target
    finally:
        target.unlink(missing_ok=True)


@router.get("/centres/import", response_class=HTMLResponse)
def import_form(request: Request, actor: RegistryWriter) -> HTMLResponse:
    """Upload a centre list (CSV or XLSX); check it first with a dry run."""
    return render(request, "admin/import.html", {"errors": {}, "report": None, "dry_run": True})


@router.post("/centres/import", response_class=HTMLResponse)
def import_upload(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: RegistryWriter,
    file: Annotated[UploadFile | None, File()] = None,
    dry_run: FormText = "",
) -> Response:
    """Check, then (unless a dry run) import the uploaded centre list; all rows or none."""
    checking = dry_run == "yes"
    filename = (file.filename or "") if file is not None else ""
    problem = _upload_name_problem(filename)
    if problem is not None or file is None:
        errors = {"file": [problem or "Choose a file."]}
        refused = {"errors": errors, "report": None, "dry_run": checking}
        return render(request, "admin/import.html", refused, status=422)
    suffix = PurePosixPath(filename).suffix.lower()
    with _stored(file.file, settings.upload_dir, suffix) as path:
        report = import_centre_list(
            session, actor, path, dry_run=checking, request_id=request_id(request)
        )
    placement = None
    if not checking and not report.errors and report.created + report.updated:
        placement = place_centres(session, actor, request_id=request_id(request))
    context: dict[str, Any] = {
        "errors": {},
        "report": report,
        "dry_run": checking,
        "filename": filename,
        "placement": placement if placement is not None and placement.nuts_version else None,
    }
    return render(request, "admin/import.html", context, status=422 if report.errors else 200)
