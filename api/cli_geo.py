"""``accessgap geo ...`` (official boundaries, NUTS versions, populations, where the centres
are) and ``accessgap maps render``.

Adapters like the routes: each command parses its options, calls one use case of ``mapping``
(which checks the actor's permission and records its own audit event) and prints the outcome.
The operator on the server acts as :func:`surveys.policy.system_actor`; each command is one
request with its own id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from mapping import imports, populations, service, versions
from surveys.db import make_engine, make_session_factory, transaction
from surveys.errors import DomainError, RowProblem
from surveys.policy import system_actor

geo_app = typer.Typer(
    help="Official boundaries (Eurostat GISCO NUTS), their versions, population figures and "
    "where the centres lie."
)
maps_app = typer.Typer(help="Publication figures of the indicator maps.")
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)
FileArgument = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
LEVEL_NAMES = {"country": "countries", "nuts1": "NUTS-1", "nuts2": "NUTS-2", "nuts3": "NUTS-3"}


def _factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(Settings().database_url))


def _request_id() -> str:
    return str(uuid.uuid4())


def print_placement(placement: versions.Placement | None) -> None:
    """Where the centres landed: inside, by proximity, and the unplaced ones with coordinates."""
    if placement is None:
        return
    console.print(
        f"Centres in NUTS {placement.nuts_version} regions: {placement.inside} placed, "
        f"{placement.by_proximity} placed by proximity (within 25 km of their country's nearest "
        f"region), {len(placement.unplaced)} unplaced"
        + (
            f", {placement.without_coordinates} without coordinates"
            if placement.without_coordinates
            else ""
        )
        + (
            f", {sum(placement.uncovered.values())} in countries without NUTS-2 regions "
            f"({', '.join(placement.uncovered)})."
            if placement.uncovered
            else "."
        ),
        markup=False,
    )
    if placement.unplaced:
        table = Table(
            "centre", "country", "latitude", "longitude", "nearest region", title="Unplaced"
        )
        for centre in placement.unplaced:
            nearest = (
                f"{centre.nearest_region} ({centre.nearest_km:,.1f} km)"
                if centre.nearest_region
                else "none in its country"
            )
            table.add_row(
                f"{centre.name} [{centre.public_id}]",
                centre.country,
                f"{centre.latitude:.5f}",
                f"{centre.longitude:.5f}",
                nearest,
            )
        console.print(table)
        console.print(
            "Check their coordinates ('accessgap centres export', then import the corrected "
            "list); an unplaced centre counts for its country, not for any region.",
            markup=False,
        )


@geo_app.command("import-boundaries")
def import_boundaries(
    file: FileArgument,
    level: Annotated[int, typer.Option(min=0, max=3, help="NUTS level in the file")] = 2,
    nuts_version: Annotated[
        str | None,
        typer.Option(help="NUTS version, e.g. 2024 (read from a GISCO file name when omitted)"),
    ] = None,
    activate: Annotated[
        bool,
        typer.Option(
            "--activate", help="Make this version the level's active one (maps read it only)."
        ),
    ] = False,
) -> None:
    """Load NUTS regions from a GISCO file: GeoJSON, shapefile (.shp or zipped) or GeoPackage,
    in EPSG:4326 or 3035. At level 2 every centre is placed in the active version's regions."""
    version = nuts_version or imports.nuts_version_in_name(file.name)
    if version is None:
        errors.print(
            f"{file.name} does not say its NUTS version; give it with --nuts-version 2024.",
            markup=False,
        )
        raise typer.Exit(2)
    try:
        with transaction(_factory()) as session:
            loaded = imports.import_boundaries(
                session,
                system_actor(),
                file,
                level=level,
                nuts_version=version,
                activate=activate,
                request_id=_request_id(),
            )
    except (DomainError, ValueError) as exc:
        errors.print(str(exc), markup=False)
        raise typer.Exit(1) from exc
    console.print(
        f"{loaded.stored} NUTS-{level} regions ({version}) loaded from {file.name}.", markup=False
    )
    if loaded.skipped:
        console.print(
            f"{len(loaded.skipped)} regions of countries the registry does not hold were left "
            f"out: {', '.join(loaded.skipped[:8])}{' …' if len(loaded.skipped) > 8 else ''}.",
            markup=False,
        )
    if loaded.active:
        console.print(f"NUTS {version} is the active level-{level} version.", markup=False)
    else:
        console.print(
            f"NUTS {loaded.active_version} stays the active level-{level} version: maps, "
            f"indicators and figures still read it. To switch, run 'accessgap geo versions "
            f"--activate {version} --level {level}' (or import again with --activate).",
            markup=False,
        )
    print_placement(loaded.placement)


@geo_app.command("versions")
def boundary_versions(
    activate: Annotated[
        str | None, typer.Option(help="Make this NUTS version the active one of --level.")
    ] = None,
    level: Annotated[int, typer.Option(min=0, max=3, help="NUTS level to switch")] = 2,
) -> None:
    """List the NUTS versions of the boundaries per level (the active one marked), or switch a
    level to another version with --activate 2024 --level 2."""
    try:
        with transaction(_factory()) as session:
            if activate is not None:
                switched = versions.activate_version(
                    session,
                    system_actor(),
                    level=level,
                    nuts_version=activate,
                    request_id=_request_id(),
                )
                console.print(
                    f"NUTS {switched.nuts_version} is now the active level-{level} version"
                    + (f" (was {switched.previous})." if switched.previous else "."),
                    markup=False,
                )
                print_placement(switched.placement)
            held = versions.list_versions(session, system_actor())
            table = Table("level", "NUTS version", "regions", "active", "source", "imported")
            for row in held:
                table.add_row(
                    str(row.level),
                    row.nuts_version,
                    str(row.regions),
                    "active" if row.active else "",
                    row.source or "",
                    row.imported_at.strftime("%Y-%m-%d %H:%M") if row.imported_at else "",
                )
    except DomainError as exc:
        errors.print(exc.detail, markup=False)
        raise typer.Exit(1) from exc
    if held:
        console.print(table)
    else:
        console.print("No boundaries are loaded.")


def print_row_problems(file: Path, problems: Sequence[RowProblem], detail: str) -> None:
    """Why a file was refused whole: its problems by row and column, then the summary."""
    table = Table("row", "column", "problem", "value", title=f"{file.name}: problems")
    for problem in problems:
        table.add_row(str(problem.row), problem.column, problem.message, problem.value or "")
    errors.print(table)
    errors.print(detail, markup=False)


@geo_app.command("import-population")
def import_population(file: FileArgument) -> None:
    """Load population figures: a CSV with area_code, year, value, source (and optionally
    level, nuts_version). Any problem refuses the whole file: nothing is written."""
    try:
        with transaction(_factory()) as session:
            loaded = imports.import_population(
                session, system_actor(), file, request_id=_request_id()
            )
    except imports.PopulationFileRefused as exc:
        print_row_problems(file, exc.problems, exc.detail)
        raise typer.Exit(1) from exc
    except DomainError as exc:
        errors.print(exc.detail, markup=False)
        raise typer.Exit(1) from exc
    areas = ", ".join(
        f"{count} {LEVEL_NAMES.get(level, level)}" for level, count in loaded.areas_by_level.items()
    )
    console.print(
        f"{loaded.created + loaded.updated} figures loaded from {file.name} ({loaded.created} "
        f"new, {loaded.updated} replaced); areas updated: {areas}.",
        markup=False,
    )
    for level in loaded.coverage:
        console.print(
            f"{LEVEL_NAMES.get(level.level, level.level)}: {level.official} of {level.areas} "
            f"have an official figure, {len(level.standins)} still use stand-ins"
            + (f" ({', '.join(level.standins[:12])})." if level.standins else "."),
            markup=False,
        )


@geo_app.command("denominators")
def denominators(
    year: Annotated[
        int | None,
        typer.Option(help="Reference year (default: each area's latest figure)"),
    ] = None,
) -> None:
    """Which population figure each level's areas use (source and year, counts), and which
    areas rest on stand-ins."""
    with transaction(_factory()) as session:
        levels = populations.denominators_in_use(session, system_actor(), reference_year=year)
    for level in levels:
        table = Table("source", "year", "areas", title=LEVEL_NAMES.get(level.level, level.level))
        for source, used_year, count in level.summary.uses:
            table.add_row(source, str(used_year or "—"), str(count))
        console.print(table)
        if level.summary.standins:
            console.print(
                f"On stand-ins: {', '.join(level.summary.standins)}.",
                markup=False,
            )
        if level.summary.missing:
            console.print(f"No figure: {', '.join(level.summary.missing)}.", markup=False)
        if level.summary.warning:
            console.print(level.summary.warning, markup=False)


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
        errors.print(exc.detail, markup=False)
        raise typer.Exit(1) from exc
    for figure in series.maps:
        path = out / f"{figure.spec.id}-{level}.{fmt}"
        service.draw_figure(figure, fmt, path, source_note=series.source_note)
        console.print(f"Written {path}", markup=False)
    for warning in {m.denominator_warning for m in series.maps if m.denominator_warning}:
        console.print(f"Note: {warning}", markup=False)
