"""``accessgap geo ...`` (official boundaries and populations) and ``accessgap maps render``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from mapping import service
from mapping.classify import shared_classification
from mapping.layers import area_layer, with_geometry
from mapping.render.static import static_map
from surveys.campaigns.lifecycle import get_campaign
from surveys.campaigns.models import Campaign, CampaignStatus
from surveys.db import make_engine, make_session_factory, transaction
from surveys.errors import DomainError

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
            stored = service.import_boundaries(
                session, file, level=level, nuts_version=nuts_version
            )
    except (DomainError, ValueError) as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"{stored} NUTS-{level} regions ({nuts_version}) loaded from {file.name}.")


@geo_app.command("import-population")
def import_population(file: FileArgument) -> None:
    """Load population figures: a CSV with area_code, year, value, source (and level)."""
    try:
        with transaction(_factory()) as session:
            stored = service.import_population(session, file)
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
            chosen = (
                get_campaign(session, campaign)
                if campaign
                else session.scalar(
                    select(Campaign)
                    .where(Campaign.status != CampaignStatus.DRAFT)
                    .order_by(Campaign.created_at.desc())
                    .limit(1)
                )
            )
            if chosen is None:
                raise typer.BadParameter("no campaign with data; name one with --campaign")
            frames = [
                service.indicator_values(
                    session,
                    chosen,
                    ident,
                    level=level,
                    low_coverage_threshold=settings.low_coverage_threshold,
                )
                for ident in indicator
            ]
            layer = area_layer(session, level)
            name = chosen.name
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    series = [frame.set_index("area_code") for _, frame in frames]
    classifications = shared_classification(
        [f["value"].astype(float) for f in series],
        scheme,
        classes,
        low_coverage=[f["low_coverage"].astype(bool) for f in series],
    )
    for (spec, frame), classification in zip(frames, classifications, strict=True):
        path = out / f"{spec.id}-{level}.{fmt}"
        static_map(
            with_geometry(layer, frame),
            classification,
            title=spec.label.get("en") or spec.id,
            source_note=f"Survey: {name}. Denominators: see the data table. "
            "Boundaries: Natural Earth; NUTS © EuroGeographics.",
            fmt=fmt,
            out=path,
            value_label=spec.unit.get("en") or None,
        )
        console.print(f"Written {path}")
