"""The ``accessgap`` command: an adapter over the same use cases as the API and the pages.

A command that changes data calls the use case as the operator's system actor
(:func:`surveys.policy.system_actor`, label ``system:cli``), so the audit log shows it came
from the command line.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli_accounts import privacy_app, users_app
from api.cli_evidence import evidence_app
from api.cli_export import export_command
from api.cli_forms import forms_app
from api.cli_geo import geo_app, maps_app, print_placement
from api.settings import Settings
from mapping.packaged import PACKAGED_ACTOR, install_reference_data
from mapping.versions import place_centres
from surveys import backup, migrate
from surveys.db import make_engine, make_session_factory, transaction
from surveys.demo.campaign import demo_invitation, load_demo_campaign
from surveys.demo.centres import DEMO_CENTRE_COUNT, load_demo_centres
from surveys.errors import ImportReport
from surveys.policy import system_actor
from surveys.registry.countries import seed_countries
from surveys.registry.transfer import export_csv, import_centre_list
from surveys.tabular import RowCounter

app = typer.Typer(help="accessgap: surveys and equity maps of access to hi-tech cancer care.")
db_app = typer.Typer(help="Database schema (Alembic).")
demo_app = typer.Typer(help="Synthetic demo data.")
centres_app = typer.Typer(help="The centre registry.")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(centres_app, name="centres")
app.add_typer(users_app, name="users")
app.add_typer(privacy_app, name="privacy")
app.add_typer(forms_app, name="forms")
app.add_typer(geo_app, name="geo")
app.add_typer(maps_app, name="maps")
app.add_typer(evidence_app, name="evidence")
app.command("export")(export_command)

console = Console()
errors = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to REVISION (default: the latest) and seed the country list."""
    settings = Settings()
    migrate.upgrade(settings.database_url, revision)
    engine = make_engine(settings.database_url)
    with transaction(make_session_factory(engine)) as session:
        added = seed_countries(session)
    console.print(f"Database at revision {revision}; {added} countries added.")
    if revision == "head":
        with transaction(make_session_factory(engine)) as session:
            installed = install_reference_data(
                session, system_actor(PACKAGED_ACTOR), request_id=str(uuid.uuid4())
            )
        for loaded in installed.boundaries:
            console.print(
                f"Packaged NUTS {loaded.nuts_version} level {loaded.level} boundaries loaded "
                f"({loaded.stored} regions).",
                markup=False,
            )
        if installed.figures:
            console.print(
                f"{installed.figures} packaged Eurostat population figures loaded "
                "(see mapping/data/reference/PROVENANCE.md).",
                markup=False,
            )
    engine.dispose()


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (``base`` removes every table)."""
    migrate.downgrade(Settings().database_url, revision)
    console.print(f"Database at revision {revision}.")


@db_app.command("check")
def db_check() -> None:
    """Fail when the models and the migrations differ."""
    migrate.check(Settings().database_url)
    console.print("Models and migrations agree.")


# The name of the variable that holds the passphrase, not the passphrase.
PASSPHRASE_VARIABLE = "ACCESSGAP_BACKUP_PASSPHRASE"  # noqa: S105


def _passphrase(variable: str) -> str:
    """The backup passphrase, from an environment variable (never an argument: argv is public)."""
    value = os.environ.get(variable, "")
    if not value:
        errors.print(f"[red]Set the passphrase in the environment variable {variable}.[/red]")
        raise typer.Exit(2)
    return value


PassphraseEnv = Annotated[
    str,
    typer.Option(
        "--passphrase-env",
        metavar="VAR",
        help="The environment variable that holds the passphrase.",
    ),
]


@db_app.command("backup")
def db_backup(
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="The backup file to write.")],
    passphrase_env: PassphraseEnv = PASSPHRASE_VARIABLE,
) -> None:
    """Take an encrypted online backup (a consistent snapshot, while the app keeps writing),
    with a manifest of every table's row count and SHA-256."""
    passphrase = _passphrase(passphrase_env)
    try:
        manifest = backup.create_backup(Settings().database_url, out, passphrase)
    except backup.BackupError as exc:
        errors.print(f"[red]{exc.detail}[/red]", markup=True, highlight=False)
        raise typer.Exit(1) from exc
    console.print(
        f"Backup of {len(manifest.tables)} tables ({manifest.total_rows} rows, revision "
        f"{manifest.revision}) written to {out} ({out.stat().st_size:,} bytes).",
        markup=False,
        highlight=False,
    )


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    into: Annotated[
        str, typer.Option("--into", help="The EMPTY database to restore into (a URL).")
    ],
    passphrase_env: PassphraseEnv = PASSPHRASE_VARIABLE,
) -> None:
    """Restore a backup into an empty database, then prove it holds the snapshot: same row
    count and SHA-256 in every table. Exit 100 for a wrong passphrase or a damaged file (the
    target is then untouched), 1 for any other failure."""
    passphrase = _passphrase(passphrase_env)
    try:
        manifest = backup.restore_backup(file, into, passphrase)
    except backup.BackupError as exc:
        errors.print(f"[red]{exc.detail}[/red]", markup=True, highlight=False)
        raise typer.Exit(100 if isinstance(exc, backup.BackupUnreadable) else 1) from exc
    console.print(
        f"Restored {len(manifest.tables)} tables ({manifest.total_rows} rows, revision "
        f"{manifest.revision}, taken {manifest.created_at:%Y-%m-%d %H:%M:%S} UTC); every "
        "table matches the backup's manifest.",
        markup=False,
        highlight=False,
    )


@demo_app.command("load")
def demo_load(
    centres: Annotated[int, typer.Option(min=10, max=20_000)] = DEMO_CENTRE_COUNT,
    campaign: Annotated[
        bool, typer.Option(help="Also run the demo campaign (catalogue, answers, a link).")
    ] = True,
) -> None:
    """Load the synthetic demo: about 1,500 centres over 32 countries, and a demo campaign in
    which several hundred of them have answered; print a working invitation link."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with _progress() as progress, transaction(factory) as session:
        task = progress.add_task("Synthetic centres", total=centres)
        created = load_demo_centres(
            session, total=centres, progress=lambda n: progress.advance(task, n)
        )
        if not created:
            progress.update(task, completed=centres, description="Demo centres already loaded")
    console.print(f"{created} synthetic centres created.")
    if created:
        with transaction(factory) as session:
            placed = place_centres(session, system_actor(), request_id=str(uuid.uuid4()))
        print_placement(placed if placed.nuts_version else None)
    if campaign:
        with _progress() as progress, transaction(factory) as session:
            task = progress.add_task("Demo campaign: synthetic centres answer", total=None)
            demo = load_demo_campaign(
                session,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        with transaction(factory) as session:
            link = demo_invitation(session)
        if demo is not None:
            console.print(f"Demo campaign: {demo.submitted} synthetic questionnaires submitted.")
        if link is not None:
            token, centre = link
            console.print(
                f"Invitation link for {centre}: {settings.base_url}/i/{token}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    engine.dispose()


def _print_report(report: ImportReport) -> None:
    if report.problems:
        table = Table("row", "column", "severity", "problem", "value", title="Import report")
        for p in report.problems:
            table.add_row(str(p.row), p.column, p.severity, p.message, p.value or "")
        console.print(table)


@centres_app.command("import")
def centres_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[bool, typer.Option(help="Check the file without writing.")] = False,
) -> None:
    """Import a centre list (CSV or XLSX). Nothing is written when any row has an error."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        report = import_centre_list(session, system_actor(), file, dry_run=dry_run, request_id=None)
    _print_report(report)
    if report.errors:
        engine.dispose()
        errors.print(f"[red]{len(report.errors)} error(s): nothing was imported.[/red]")
        raise typer.Exit(1)
    verb = "would be" if dry_run else "were"
    console.print(
        f"{report.created} centres {verb} created, {report.updated} updated, "
        f"{len(report.warnings)} warning(s)."
    )
    if not dry_run and report.created + report.updated:
        with transaction(factory) as session:
            placed = place_centres(session, system_actor(), request_id=str(uuid.uuid4()))
        print_placement(placed if placed.nuts_version else None)
    engine.dispose()


@centres_app.command("export")
def centres_export(
    file: Annotated[Path, typer.Argument(dir_okay=False, writable=True)],
    bom: Annotated[bool, typer.Option(help="Start with a byte-order mark for Excel.")] = False,
) -> None:
    """Export the registry to a CSV file that ``centres import`` reads back."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    counter = RowCounter()
    with transaction(make_session_factory(engine)) as session, file.open("wb") as out:
        out.writelines(export_csv(session, bom=bom, counter=counter))
    engine.dispose()
    console.print(f"{counter.rows} centres written to {file.name}.")


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=32)] = 1,
) -> None:
    """Serve the application with uvicorn (invitation tokens redacted in the access log)."""
    import uvicorn

    from api.access_log import uvicorn_log_config

    uvicorn.run(
        "api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        log_config=uvicorn_log_config(),
    )


if __name__ == "__main__":  # python -m api.cli, as the accessgap script does
    app()
