"""``accessgap geo ...`` (official boundaries and populations) and ``accessgap maps render``.

Adapters like the routes: each command parses its options, calls one use case of ``mapping``
(which checks the actor's permission and records its own audit event) and prints the outcome.
The operator on the server acts as :func:`surveys.policy.system_actor`; each command is one
request with its own id.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from mapping import imports, service
from surveys.db import make_engine, make_session_factory, transaction
from surveys.errors import DomainError
from surveys.policy import system_actor

geo_app = typer.Typer(help="Official boundaries (Eurostat GISCO NUTS) and population figures.")
maps_app = typer.Typer(help="Publication figures of the indicator maps.")
console = Console()
errors = Console(stderr=True)
FileArgument = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def _factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(Settings().database_url))


@geo_app.command("import-boundaries")
def import_boundaries(
    file: FileArgument,
    level: Annotated[int, typer.Option(min=0, max=3, help="NUTS level in the file")] = 2,
    nuts_version: Annotated[str, typer.Option(help="NUTS version, e.g. 2021")] = "2021",
) -> None:
    """Load NUTS regions from a GISCO GeoJSON file (EPSG:4326 or EPSG:3035); at level 2 every
    centre gets its region by point-in-polygon."""
    try:
        with transaction(_factory()) as session:
            loaded = imports.import_boundaries(
                session,
                system_actor(),
                file,
                level=level,
                nuts_version=nuts_version,
                request_id=str(uuid.uuid4()),
            )
    except (DomainError, ValueError) as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"{loaded.stored} NUTS-{level} regions ({nuts_version}) loaded from {file.name}.")


@geo_app.command("import-population")
def import_population(file: FileArgument) -> None:
    """Load population figures: a CSV with area_code, year, value, source (and level)."""
    try:
        with transaction(_factory()) as session:
            stored = imports.import_population(
                session, system_actor(), file, request_id=str(uuid.uuid4())
            )
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"{stored} population figures loaded from {file.name}.")


@maps_app.command("render")
def render(
    indicator: Annotated[
        list[str],
        typer.Option("--indicator", help="Indicator id (repeat for a series with shared classes)"),
    ],
    fmt: Annotated[Literal["png", "svg", "pdf"], typer.Option("--format")] = "svg",
    out: Annotated[Path, typer.Option(file_okay=False)] = Path("var/figures"),
    campaign: Annotated[str | None, typer.Option(help="Campaign slug (default: latest)")] = None,
    level: Annotated[Literal["country", "nuts2"], typer.Option()] = "country",
    scheme: Annotated[
        Literal["quantiles", "natural_breaks", "equal_interval"], typer.Option()
    ] = "quantiles",
    classes: Annotated[int, typer.Option(min=2, max=7)] = 5,
) -> None:
    """Write publication figures (EPSG:3035) of one or more indicators; several indicators
    share the same classes, so the maps of a series compare."""
    settings = Settings()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with transaction(_factory()) as session:
            series = service.figure_series(
                session,
                system_actor(),
                indicator,
                campaign=campaign,
                level=level,
                scheme=scheme,
                classes=classes,
                low_coverage_threshold=settings.low_coverage_threshold,
            )
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    for figure in series.maps:
        path = out / f"{figure.spec.id}-{level}.{fmt}"
        service.draw_figure(figure, fmt, path, source_note=series.source_note)
        console.print(f"Written {path}")
