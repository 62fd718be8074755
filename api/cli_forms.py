"""``accessgap forms ...``: validate, import, publish, export and compare questionnaires.

Importing, publishing and the catalogue call the same use cases as the JSON API, as the
operator's system actor (``system:cli``): each leaves its audit event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from surveys.db import make_engine, make_session_factory, transaction
from surveys.errors import DomainError
from surveys.policy import system_actor
from surveys.questionnaires import service
from surveys.questionnaires.definitions.tables import FormFileError, read_form_file
from surveys.questionnaires.definitions.xlsform import write_xlsx, write_yaml
from surveys.questionnaires.rules import Problem, validate

forms_app = typer.Typer(help="Questionnaires: XLSForm definitions and their versions.")
console = Console()
errors = Console(stderr=True)
FileArgument = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
AttachOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--attach",
        exists=True,
        dir_okay=False,
        readable=True,
        help="A CSV file the form names (select_one_from_file, itemsets.csv); repeatable.",
    ),
]


def _split(reference: str) -> tuple[str, str | None]:
    """``radiotherapy@2026.1`` is (``radiotherapy``, ``2026.1``); no ``@`` means the latest."""
    form_id, _, version = reference.partition("@")
    return form_id, version or None


def _print_problems(problems: list[Problem]) -> None:
    """One line a problem: code, sheet, row and column, what is wrong and how to fix it."""
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(f"[{style}]{problem.severity}[/{style}] ", end="")
        console.print(problem.describe(), markup=False, highlight=False, soft_wrap=True)


def _session_factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(Settings().database_url))


def _fail(exc: DomainError) -> typer.Exit:
    errors.print(f"[red]{exc.code}: {exc.detail}[/red]")
    for error in exc.errors:
        errors.print(f"  {'/'.join(map(str, error.loc))}: {error.msg}")
    return typer.Exit(1)


@forms_app.command("validate")
def validate_command(file: FileArgument, attach: AttachOption = None) -> None:
    """Check a form file; exit status 1 when it has errors."""
    try:
        result = validate(read_form_file(file, attachments=tuple(attach or ())))
    except FormFileError as exc:
        errors.print(f"[red]{exc.code}: {exc}[/red]")
        raise typer.Exit(1) from exc
    if result.problems:
        _print_problems(result.problems)
    console.print(f"{len(result.errors)} error(s), {len(result.warnings)} warning(s).")
    if result.errors:
        raise typer.Exit(1)


@forms_app.command("import")
def import_command(file: FileArgument, attach: AttachOption = None) -> None:
    """Store a form file as a draft version."""
    try:
        tables = read_form_file(file, attachments=tuple(attach or ()))
        with transaction(_session_factory()) as session:
            outcome = service.import_form(session, system_actor(), tables, request_id=None)
            version, created = outcome.version.version, outcome.created
            form_id = outcome.version.definition["settings"]["form_id"]
    except FormFileError as exc:
        errors.print(f"[red]{exc.code}: {exc}[/red]")
        raise typer.Exit(1) from exc
    except service.DefinitionInvalid as exc:
        _print_problems(exc.result.problems)
        raise _fail(exc) from exc
    except DomainError as exc:
        raise _fail(exc) from exc
    state = "stored as a draft" if created else "already stored (same content)"
    console.print(f"{form_id}@{version} {state}.")


@forms_app.command("publish")
def publish_command(reference: str) -> None:
    """Publish FORM_ID[@VERSION] (default: the latest version)."""
    form_id, version = _split(reference)
    try:
        with transaction(_session_factory()) as session:
            published = service.publish_form(
                session, system_actor(), form_id, version, request_id=None
            )
            label = published.version
    except DomainError as exc:
        raise _fail(exc) from exc
    console.print(f"{form_id}@{label} is published.")


@forms_app.command("export")
def export_command(
    reference: str,
    format: Annotated[Literal["xlsx", "yaml"], typer.Option("--format")] = "xlsx",
    out: Annotated[Path, typer.Option(file_okay=False)] = Path(),
) -> None:
    """Write FORM_ID[@VERSION] as an XLSForm workbook (or YAML) into the folder OUT."""
    form_id, version = _split(reference)
    try:
        with transaction(_session_factory()) as session:
            found = service.get_version(session, form_id, version)
            definition, label = found.definition, found.version
    except DomainError as exc:
        raise _fail(exc) from exc
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{form_id}-{label}.{format}"
    if format == "xlsx":
        path.write_bytes(write_xlsx(definition))
    else:
        path.write_text(write_yaml(definition), encoding="utf-8")
    console.print(f"Written {path}.")


@forms_app.command("diff")
def diff_command(before: str, after: str) -> None:
    """Compare two versions: FORM_ID@A FORM_ID@B."""
    form_a, version_a = _split(before)
    form_b, version_b = _split(after)
    if form_a != form_b or version_a is None or version_b is None:
        errors.print("[red]Name two versions of one form, e.g. radiotherapy@1 radiotherapy@2.")
        raise typer.Exit(2)
    try:
        with transaction(_session_factory()) as session:
            lines = service.diff_versions(session, form_a, version_a, version_b).lines()
    except DomainError as exc:
        raise _fail(exc) from exc
    for line in lines or ["No difference."]:
        console.print(line, markup=False, highlight=False)


@forms_app.command("list")
def list_command() -> None:
    """The questionnaires and their versions."""
    with transaction(_session_factory()) as session:
        summaries = service.list_questionnaires(session)
    table = Table("form_id", "title", "domain", "latest", "status", "published")
    for s in summaries:
        table.add_row(
            s.form_id,
            s.title,
            s.domain or "",
            s.latest_version,
            s.latest_status,
            s.published_version or "",
        )
    console.print(table)


@forms_app.command("catalogue")
def catalogue_command() -> None:
    """Import and publish the built-in catalogue (centre profile and the seven domains)."""
    with transaction(_session_factory()) as session:
        versions = service.publish_catalogue(session, system_actor(), request_id=None)
    console.print(f"{len(versions)} catalogue questionnaires published.")
