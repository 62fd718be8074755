"""``accessgap export``: write an export (or a release) into a folder, with a progress bar.

The files land in ``--out`` as they would in the zip (tables, codebook, ``manifest.json`` last);
the export is the same audited use case as a download, by the operator's system actor.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.settings import Settings
from surveys.db import make_engine, make_session_factory, transaction
from surveys.errors import DomainError
from surveys.exports import service
from surveys.exports.schemas import ExportFilter, ExportFormat, ExportOptions
from surveys.policy import system_actor

console = Console()
errors = Console(stderr=True)


def export_command(
    format: Annotated[ExportFormat, typer.Option("--format", help="What to write.")],
    out: Annotated[Path, typer.Option(file_okay=False, help="Folder to write into.")],
    campaign: Annotated[str | None, typer.Option(help="Campaign slug.")] = None,
    questionnaire: Annotated[str | None, typer.Option(help="Questionnaire form id.")] = None,
    domain: Annotated[str | None, typer.Option(help="Domain of the questionnaires.")] = None,
    country: Annotated[
        list[str] | None, typer.Option(help="ISO alpha-2 country; repeat for several.")
    ] = None,
    submitted_from: Annotated[
        dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day.")
    ] = None,
    submitted_to: Annotated[
        dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day.")
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option(help="submitted and/or approved (default: both).")
    ] = None,
    values: Annotated[str, typer.Option(help="codes or labels.")] = "codes",
    language: Annotated[str | None, typer.Option(help="Label language.")] = None,
    bom: Annotated[bool, typer.Option(help="UTF-8 byte-order mark on CSV files.")] = False,
    identified: Annotated[
        bool, typer.Option(help="Keep identifier questions, centre ids and names.")
    ] = False,
    release: Annotated[int | None, typer.Option(help="Write this release instead.")] = None,
) -> None:
    """Export responses (or a dataset release) as csv, csv-long, xlsx, datapackage, sav, dta or
    geojson into the folder OUT, with a manifest of row counts and SHA-256 hashes."""
    settings = Settings()
    factory = make_session_factory(make_engine(settings.database_url))
    actor = system_actor()
    try:
        filters = ExportFilter.model_validate(
            {
                "campaign": campaign,
                "questionnaire": questionnaire,
                "domain": domain,
                "country": country or [],
                "submitted_from": submitted_from.date() if submitted_from else None,
                "submitted_to": submitted_to.date() if submitted_to else None,
                "status": status or ["submitted", "approved"],
            }
        )
        options = ExportOptions.model_validate({"values": values, "language": language, "bom": bom})
        with transaction(factory) as session:
            if release is not None:
                job = service.start_release_download(
                    session, actor, release, format=format, options=options, request_id=None
                )
            else:
                job = service.start_export(
                    session,
                    actor,
                    format=format,
                    filters=filters,
                    options=options,
                    pseudonymised=not identified,
                    pseudonym_secret=settings.pseudonym_secret,
                    request_id=None,
                    min_centres=settings.disclosure_min_centres,
                )
    except DomainError as exc:
        errors.print(f"[red]{exc.code}: {exc.detail}[/red]")
        raise typer.Exit(1) from exc
    except ValueError as exc:  # pydantic's ValidationError: a filter or option is malformed
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task(f"Exporting {format.value}", total=None)

        def advance(count: int) -> None:
            if progress.tasks[task].total != job.total:
                progress.update(task, total=job.total)
            progress.advance(task, count)

        job.progress = advance
        try:
            manifest_path = service.write_export(factory, actor, job, out, request_id=None)
        except Exception as exc:  # reported for people; the audit trail has export.aborted
            written = ", ".join(f.path for f in job.delivery.files) or "none"
            errors.print(
                f"[red]The export broke off ({type(exc).__name__}: {exc}). Files written: "
                f"{written}. {out} has no manifest.json, so it is incomplete: delete it and "
                "run the export again.[/red]"
            )
            raise typer.Exit(1) from exc
    manifest = job.manifest or {}
    console.print(
        f"{manifest.get('responses', 0)} responses, {len(job.delivery.files)} files written to "
        f"{out}; manifest: {manifest_path.name} (export {job.id})."
    )
