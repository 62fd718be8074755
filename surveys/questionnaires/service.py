"""Use cases of questionnaires: import, validate, publish, version, diff and the catalogue.

A version's content is frozen by its hash once published. Importing a changed form makes a new
version; importing the same content again changes nothing. A question may never change its type
under the same name across the versions of a questionnaire: answers of old and new versions must
stay comparable.

Importing, publishing and installing the catalogue are use cases (:func:`import_form`,
:func:`publish_form`, :func:`publish_catalogue`): they check ``questionnaires:manage`` and record
their own audit events; the JSON API and the CLI call them. :func:`import_definition` and
:func:`publish_version` are their unaudited steps (test builders and the demo use them).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.audit.channel import channel
from surveys.audit.service import record
from surveys.db import utcnow
from surveys.errors import Conflict, FieldError, InvalidInput, NotFound
from surveys.policy import Actor, Permission, authorize
from surveys.questionnaires.definitions.compiled import CompiledForm, compile_definition
from surveys.questionnaires.definitions.diff import DefinitionDiff, diff_definitions
from surveys.questionnaires.definitions.model import content_hash, to_definition, to_tables
from surveys.questionnaires.definitions.tables import (
    FORM_KINDS,
    FormFileError,
    FormTables,
    read_form_bytes,
    read_yaml,
)
from surveys.questionnaires.models import Questionnaire, QuestionnaireVersion
from surveys.questionnaires.rules import Problem, ValidationResult, validate
from surveys.questionnaires.rules.languages import CODE as INCOMPLETE_LANGUAGE

CATALOGUE_PACKAGE = "surveys.questionnaires"
CATALOGUE_FOLDER = "catalogue"


class QuestionnaireNotFound(NotFound):
    code = "questionnaire_not_found"


class DefinitionInvalid(InvalidInput):
    code = "definition_invalid"
    title = "The questionnaire definition has errors"

    def __init__(self, result: ValidationResult) -> None:
        super().__init__(
            f"{len(result.errors)} error(s) in the definition; see errors.",
            errors=[_field_error(p) for p in result.errors],
        )
        self.result = result


class VersionConflict(Conflict):
    code = "version_exists"


class TypeChanged(Conflict):
    code = "definition.type_changed"


class NotPublishable(InvalidInput):
    code = "definition.not_publishable"


class UnreadableForm(InvalidInput):
    code = "definition.unreadable_file"


def _plain_name(filename: str, field: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if base != filename or base in {"", ".", ".."}:
        raise UnreadableForm(
            "The file name must not contain a path; upload the file itself, e.g. form.xlsx.",
            errors=[FieldError((field,), "path components are not allowed", "path")],
        )
    return base


def read_upload(
    data: bytes, filename: str, attachments: dict[str, bytes] | None = None
) -> FormTables:
    """Tables from an uploaded form file and the CSV files it names; the names only tell the
    format (and the default form id) and are never paths.

    The read is bounded (size, rows, columns, cell length, time: see ``workbook``), so this is
    safe to run in a worker thread while the event loop keeps answering.
    """
    base = _plain_name(filename, "file")
    suffix = "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""
    kind = FORM_KINDS.get(suffix)
    if kind is None:
        raise UnreadableForm(
            f"{base}: unsupported form file; upload an XLSForm (.xlsx, .xls, .xlsm), "
            ".yaml or .md file.",
            errors=[FieldError(("file",), "unsupported file type", "form_file.unsupported_type")],
        )
    named = {
        _plain_name(name, "attachments"): content for name, content in (attachments or {}).items()
    }
    try:
        return read_form_bytes(data, kind=kind, source=base, attachments=named)
    except FormFileError as exc:
        raise UnreadableForm(str(exc), errors=[FieldError(("file",), str(exc), exc.code)]) from exc


def _field_error(problem: Problem) -> FieldError:
    loc: tuple[str | int, ...] = (problem.sheet,)
    if problem.row is not None:
        loc += (problem.row,)
    if problem.column:
        loc += (problem.column,)
    return FieldError(loc, f"{problem.message} {problem.fix}", problem.code)


@dataclass
class ImportOutcome:
    version: QuestionnaireVersion
    created: bool
    result: ValidationResult


def _questionnaire(session: Session, form_id: str) -> Questionnaire:
    found = session.scalar(select(Questionnaire).where(Questionnaire.form_id == form_id))
    if found is None:
        raise QuestionnaireNotFound(f"No questionnaire has the form_id {form_id!r}.")
    return found


def _versions(session: Session, questionnaire_id: int) -> list[QuestionnaireVersion]:
    return list(
        session.scalars(
            select(QuestionnaireVersion)
            .where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
            .order_by(QuestionnaireVersion.id)
        )
    )


def _refuse_type_changes(definition: dict[str, Any], earlier: list[QuestionnaireVersion]) -> None:
    new_types = {r["name"]: r["type"] for r in definition["survey"] if r.get("name")}
    for version in earlier:
        for row in version.definition["survey"]:
            name = row.get("name")
            if name in new_types and new_types[name] != row["type"]:
                raise TypeChanged(
                    f"The question {name!r} was {row['type']} in version {version.version} and "
                    f"is {new_types[name]} here. A question keeps its type for ever; give the "
                    "new question a new name.",
                    errors=[FieldError(("survey", name, "type"), "type changed", TypeChanged.code)],
                )


def import_definition(session: Session, tables: FormTables) -> ImportOutcome:
    """Validate a form and store it as a draft version (or find the identical one): the step
    of :func:`import_form`, unaudited."""
    result = validate(tables)
    if not result.ok:
        raise DefinitionInvalid(result)
    definition = to_definition(tables)
    digest = content_hash(definition)
    settings = definition["settings"]
    title = settings["title"].get(settings["default_language"]) or settings["form_id"]
    questionnaire = session.scalar(
        select(Questionnaire).where(Questionnaire.form_id == settings["form_id"])
    )
    if questionnaire is None:
        questionnaire = Questionnaire(
            form_id=settings["form_id"], title=title, domain=settings["domain"]
        )
        session.add(questionnaire)
        session.flush()
    earlier = _versions(session, questionnaire.id)
    for version in earlier:
        if version.content_hash == digest:
            return ImportOutcome(version, False, result)
        if version.version == settings["version"]:
            raise VersionConflict(
                f"Version {settings['version']} of {settings['form_id']} already exists with "
                "different content. Published content never changes: set a new version in the "
                "settings sheet."
            )
    _refuse_type_changes(definition, earlier)
    questionnaire.title = title
    questionnaire.domain = settings["domain"]
    version = QuestionnaireVersion(
        questionnaire_id=questionnaire.id,
        version=settings["version"],
        content_hash=digest,
        definition=definition,
        status="draft",
    )
    session.add(version)
    session.flush()
    return ImportOutcome(version, True, result)


def import_form(
    session: Session, actor: Actor, tables: FormTables, *, request_id: str | None
) -> ImportOutcome:
    """Validate a form and store it as a draft version (or find the identical one).

    A new version is audited as ``questionnaire.import``; the identical content again changes
    nothing and records nothing.
    """
    authorize(actor, Permission.QUESTIONNAIRES_MANAGE)
    outcome = import_definition(session, tables)
    if outcome.created:
        form_id = outcome.version.definition["settings"]["form_id"]
        record(
            session,
            actor=actor,
            action="questionnaire.import",
            object_type="questionnaire",
            object_id=f"{form_id}@{outcome.version.version}",
            details={"content_hash": outcome.version.content_hash, **channel(actor)},
            request_id=request_id,
        )
    return outcome


def publish_form(
    session: Session,
    actor: Actor,
    form_id: str,
    version: str | None = None,
    *,
    request_id: str | None,
) -> QuestionnaireVersion:
    """Freeze a version (default: the latest) for collection, audited as
    ``questionnaire.publish``; refused while a declared language is incomplete."""
    authorize(actor, Permission.QUESTIONNAIRES_MANAGE)
    published = publish_version(session, form_id, version)
    record(
        session,
        actor=actor,
        action="questionnaire.publish",
        object_type="questionnaire",
        object_id=f"{form_id}@{published.version}",
        details={"content_hash": published.content_hash, **channel(actor)},
        request_id=request_id,
    )
    return published


def publish_catalogue(
    session: Session, actor: Actor, *, request_id: str | None
) -> list[QuestionnaireVersion]:
    """Import and publish every built-in questionnaire; already published ones are kept.

    Each new version is audited as an import, each newly published one as a publication.
    """
    authorize(actor, Permission.QUESTIONNAIRES_MANAGE)
    versions = []
    for tables in catalogue_tables():
        version = import_form(session, actor, tables, request_id=request_id).version
        if version.status != "published":
            form_id = tables.settings["form_id"]
            version = publish_form(session, actor, form_id, version.version, request_id=request_id)
        versions.append(version)
    return versions


def get_version(
    session: Session, form_id: str, version: str | None = None, *, published_only: bool = False
) -> QuestionnaireVersion:
    """A version by form_id and version string; without a version, the latest one."""
    questionnaire = _questionnaire(session, form_id)
    query = select(QuestionnaireVersion).where(
        QuestionnaireVersion.questionnaire_id == questionnaire.id
    )
    if published_only:
        query = query.where(QuestionnaireVersion.status == "published")
    if version is not None:
        query = query.where(QuestionnaireVersion.version == version)
    found = session.scalar(query.order_by(QuestionnaireVersion.id.desc()).limit(1))
    if found is None:
        wanted = f"version {version} of " if version else "a version of "
        raise QuestionnaireNotFound(f"There is no {wanted}{form_id!r}.")
    return found


def list_versions(session: Session, form_id: str) -> list[QuestionnaireVersion]:
    """Every version of a questionnaire, oldest first."""
    return _versions(session, _questionnaire(session, form_id).id)


def publish_version(
    session: Session, form_id: str, version: str | None = None
) -> QuestionnaireVersion:
    """Freeze a version for collection. Refused while a declared language is incomplete.

    The step of :func:`publish_form`, unaudited.
    """
    found = get_version(session, form_id, version)
    if found.status == "published":
        return found
    incomplete = [
        p for p in validate(to_tables(found.definition)).warnings if p.code == INCOMPLETE_LANGUAGE
    ]
    if incomplete:
        raise NotPublishable(
            f"{len(incomplete)} text(s) lack a translation into a declared language; a form is "
            "published only when every language is complete.",
            errors=[_field_error(p) for p in incomplete],
        )
    if content_hash(found.definition) != found.content_hash:  # pragma: no cover - tamper guard
        raise Conflict("The stored definition no longer matches its hash; re-import the form.")
    found.status = "published"
    found.published_at = utcnow()
    session.flush()
    return found


def compiled(version: QuestionnaireVersion) -> CompiledForm:
    return compile_definition(version.definition)


def diff_versions(session: Session, form_id: str, before: str, after: str) -> DefinitionDiff:
    """What changed from version ``before`` to version ``after``."""
    old = get_version(session, form_id, before)
    new = get_version(session, form_id, after)
    return diff_definitions(old.definition, new.definition)


@dataclass(frozen=True)
class QuestionnaireSummary:
    form_id: str
    title: str
    domain: str | None
    versions: int
    latest_version: str
    latest_status: str
    published_version: str | None


def list_questionnaires(session: Session) -> list[QuestionnaireSummary]:
    """Every questionnaire with its latest and latest published versions."""
    summaries = []
    questionnaires = session.scalars(select(Questionnaire).order_by(Questionnaire.form_id))
    for questionnaire in questionnaires:
        versions = _versions(session, questionnaire.id)
        if not versions:
            continue
        published = [v for v in versions if v.status == "published"]
        summaries.append(
            QuestionnaireSummary(
                form_id=questionnaire.form_id,
                title=questionnaire.title,
                domain=questionnaire.domain,
                versions=len(versions),
                latest_version=versions[-1].version,
                latest_status=versions[-1].status,
                published_version=published[-1].version if published else None,
            )
        )
    return summaries


def catalogue_tables() -> list[FormTables]:
    """The built-in catalogue's forms, read from the package."""
    folder = resources.files(CATALOGUE_PACKAGE).joinpath(CATALOGUE_FOLDER)
    return [
        read_yaml(entry.read_text(encoding="utf-8"), source=entry.name)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    ]


def load_catalogue(session: Session, *, publish: bool = True) -> list[QuestionnaireVersion]:
    """Import (and publish) every built-in questionnaire; already loaded ones are kept.

    Unaudited (the synthetic demo and test fixtures); the CLI calls :func:`publish_catalogue`.
    """
    versions = []
    for tables in catalogue_tables():
        outcome = import_definition(session, tables)
        version = outcome.version
        if publish:
            version = publish_version(session, tables.settings["form_id"], version.version)
        versions.append(version)
    return versions
