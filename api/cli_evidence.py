"""``accessgap evidence ...``: the evidence tables for the paper as CSV files (and figures).

Adapters like the routes: each command calls one read use case of :mod:`mapping.evidence` as
the operator's system actor and writes what it returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from api.settings import Settings
from mapping.evidence import figures
from mapping.evidence.barriers import barrier_summary
from mapping.evidence.left_out import left_out
from mapping.evidence.profiles import country_profile
from surveys.db import make_engine, make_session_factory, transaction
from surveys.errors import DomainError
from surveys.policy import system_actor
from surveys.tabular import csv_chunks

evidence_app = typer.Typer(
    help="Evidence for the paper: barriers, country profiles, who is left out."
)
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)
Campaign = Annotated[str, typer.Option("--campaign", help="Campaign slug")]
Out = Annotated[Path, typer.Option(file_okay=False)]


def _write(path: Path, rows: list[list[Any]]) -> None:
    header, *body = rows
    path.write_bytes(b"".join(csv_chunks([str(h) for h in header], body)))
    console.print(f"Written {path} ({len(body)} rows)", markup=False)


def _fail(exc: DomainError) -> typer.Exit:
    errors.print(exc.detail, markup=False)
    return typer.Exit(1)


@evidence_app.command("barriers")
def barriers(
    campaign: Campaign,
    domain: Annotated[str | None, typer.Option()] = None,
    country: Annotated[str | None, typer.Option(help="ISO alpha-2")] = None,
    language: Annotated[str, typer.Option()] = "en",
    out: Out = Path("var/evidence"),
) -> None:
    """The barriers by domain and country (CSV) and their figure (PNG), with "other" texts."""
    out.mkdir(parents=True, exist_ok=True)
    factory = make_session_factory(make_engine(Settings().database_url))
    try:
        with transaction(factory) as session:
            summary = barrier_summary(
                session, system_actor(), campaign, domain=domain, country=country, language=language
            )
    except DomainError as exc:
        raise _fail(exc) from exc
    _write(out / f"{campaign}-barriers.csv", summary.table_rows())
    others = [["domain", "area_code", "centre", "text"]]
    others += [[o.domain, o.area_code, o.centre, o.text] for o in summary.others or ()]
    _write(out / f"{campaign}-barriers-other.csv", others)
    figures.barrier_figure(summary, "png", out / f"{campaign}-barriers.png", area=country or "ALL")


@evidence_app.command("profile")
def profile(
    campaign: Campaign,
    country: Annotated[str, typer.Option(help="ISO alpha-2")],
    out: Out = Path("var/evidence"),
) -> None:
    """A country profile: its indicators (CSV) and the figure against the benchmarks (PNG)."""
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    factory = make_session_factory(make_engine(settings.database_url))
    try:
        with transaction(factory) as session:
            result = country_profile(
                session,
                system_actor(),
                campaign,
                country,
                low_coverage_threshold=settings.low_coverage_threshold,
            )
    except DomainError as exc:
        raise _fail(exc) from exc
    _write(out / f"{campaign}-{result.country}-profile.csv", result.table_rows())
    figures.profile_figure(result, "png", out / f"{campaign}-{result.country}-profile.png")


@evidence_app.command("left-out")
def who_is_left_out(
    campaign: Campaign,
    indicator: Annotated[str, typer.Option()],
    distance: Annotated[list[float] | None, typer.Option(help="km; repeat")] = None,
    out: Out = Path("var/evidence"),
) -> None:
    """The places and areas beyond each distance of the nearest centre offering it (CSV)."""
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    factory = make_session_factory(make_engine(settings.database_url))
    try:
        with transaction(factory) as session:
            result = left_out(
                session,
                system_actor(),
                campaign,
                indicator,
                distances=distance or (),
                low_coverage_threshold=settings.low_coverage_threshold,
            )
    except DomainError as exc:
        raise _fail(exc) from exc
    for table in ("places", "areas"):
        _write(out / f"{campaign}-{indicator}-left-out-{table}.csv", result.table_rows(table))
    for d in result.distances:
        console.print(f"Beyond {d:g} km: {result.total_beyond(d):,} people in counted places")
    if result.note:
        console.print(result.note, markup=False)
