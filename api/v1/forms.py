"""JSON routes of questionnaires: validate, import, publish, export and compare versions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile

from api.auth import QuestionnaireManager, QuestionnaireReader
from api.deps import DbSession
from api.problems import PROBLEM_RESPONSES
from surveys.questionnaires import service
from surveys.questionnaires.definitions.tables import FormTables
from surveys.questionnaires.definitions.xlsform import write_xlsx, write_yaml
from surveys.questionnaires.rules import validate
from surveys.questionnaires.schemas import (
    DiffRead,
    QuestionnaireRead,
    ValidationReport,
    VersionDefinition,
    VersionRead,
)

router = APIRouter(prefix="/forms", tags=["questionnaires"], responses=PROBLEM_RESPONSES)

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FormFile = Annotated[
    UploadFile, File(description="An XLSForm (.xlsx, .xls, .xlsm), .yaml or .md form")
]
Attachments = Annotated[
    list[UploadFile] | None,
    File(description="CSV files the form names (select_one_from_file, itemsets.csv)"),
]


def _tables(upload: UploadFile, attachments: list[UploadFile] | None = None) -> FormTables:
    """The uploaded form as tables. Read synchronously from the spooled upload: the handlers are
    plain functions, so parsing (bounded in size and time) and the database work run in the
    threadpool, never on the event loop."""
    attached = {a.filename or "": a.file.read() for a in attachments or []}
    return service.read_upload(upload.file.read(), upload.filename or "", attached)


@router.get("")
def list_forms(session: DbSession, _: QuestionnaireReader) -> list[QuestionnaireRead]:
    """Every questionnaire with its latest and published versions."""
    return [QuestionnaireRead.of(s) for s in service.list_questionnaires(session)]


@router.post("/validate")
def validate_form(
    file: FormFile, _: QuestionnaireManager, attachments: Attachments = None
) -> ValidationReport:
    """Check a form without storing it: coded errors and warnings with sheet, row and column."""
    return ValidationReport.of(validate(_tables(file, attachments)))


@router.post("", status_code=201)
def import_form(
    request: Request,
    session: DbSession,
    file: FormFile,
    response: Response,
    actor: QuestionnaireManager,
    attachments: Attachments = None,
) -> VersionRead:
    """Store a form as a draft version (the identical content already stored answers 200)."""
    outcome = service.import_form(
        session,
        actor,
        _tables(file, attachments),
        request_id=getattr(request.state, "request_id", None),
    )
    form_id = outcome.version.definition["settings"]["form_id"]
    if not outcome.created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/forms/{form_id}/versions/{outcome.version.version}"
    return VersionRead.of(outcome.version, form_id)


@router.get("/{form_id}/versions")
def list_versions(session: DbSession, form_id: str, _: QuestionnaireReader) -> list[VersionRead]:
    """The versions of a questionnaire, oldest first."""
    return [VersionRead.of(v, form_id) for v in service.list_versions(session, form_id)]


@router.get("/{form_id}/versions/{version}")
def read_version(
    session: DbSession, form_id: str, version: str, _: QuestionnaireReader
) -> VersionDefinition:
    """One version with its canonical definition."""
    found = service.get_version(session, form_id, version)
    return VersionDefinition(
        **VersionRead.of(found, form_id).model_dump(), definition=found.definition
    )


@router.post("/{form_id}/versions/{version}/publish")
def publish(
    request: Request, session: DbSession, form_id: str, version: str, actor: QuestionnaireManager
) -> VersionRead:
    """Freeze a version for collection; refused while a language is incomplete."""
    published = service.publish_form(
        session, actor, form_id, version, request_id=getattr(request.state, "request_id", None)
    )
    return VersionRead.of(published, form_id)


@router.get(
    "/{form_id}/versions/{version}/export",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}, "application/yaml": {}}}},
)
def export(
    session: DbSession,
    _: QuestionnaireReader,
    form_id: str,
    version: str,
    format: Annotated[Literal["xlsx", "yaml"], Query()] = "xlsx",
) -> Response:
    """The version as an XLSForm workbook or as the catalogue's YAML."""
    definition = service.get_version(session, form_id, version).definition
    name = f"{form_id}-{version}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "xlsx":
        return Response(write_xlsx(definition), media_type=XLSX_MEDIA_TYPE, headers=headers)
    return Response(write_yaml(definition), media_type="application/yaml", headers=headers)


@router.get("/{form_id}/diff")
def diff(
    session: DbSession,
    _: QuestionnaireReader,
    form_id: str,
    before: Annotated[str, Query(alias="from", max_length=50)],
    after: Annotated[str, Query(alias="to", max_length=50)],
) -> DiffRead:
    """Questions and choices added, removed and changed between two versions."""
    return DiffRead.of(
        service.diff_versions(session, form_id, before, after), form_id, before, after
    )
