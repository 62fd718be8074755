"""``accessgap reference ...``: official statistics beside the survey.

Adapters like the routes: each command parses its options, calls one use case of
:mod:`mapping.official_statistics` and prints the outcome, as the operator's system actor.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.cli_geo import FileArgument, _factory, _request_id, print_row_problems
from mapping import official_statistics
from surveys.db import transaction
from surveys.errors import DomainError
from surveys.policy import system_actor

reference_app = typer.Typer(help="Official statistics beside the survey (e.g. IAEA DIRAC).")
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


@reference_app.command("import")
def import_series(file: FileArgument) -> None:
    """Load an official series: a CSV with area_code, year, indicator, value, source (and
    optionally flag, level, nuts_version). Any problem refuses the whole file."""
    try:
        with transaction(_factory()) as session:
            loaded = official_statistics.import_reference(
                session, system_actor(), file, request_id=_request_id()
            )
    except official_statistics.ReferenceFileRefused as exc:
        print_row_problems(file, exc.problems, exc.detail)
        raise typer.Exit(1) from exc
    except DomainError as exc:
        errors.print(exc.detail, markup=False)
        raise typer.Exit(1) from exc
    per_indicator = ", ".join(f"{k}: {n} areas" for k, n in loaded.areas_by_indicator.items())
    console.print(
        f"{loaded.created + loaded.updated} official figures loaded from {file.name} "
        f"({loaded.created} new, {loaded.updated} replaced); {per_indicator}.",
        markup=False,
    )


@reference_app.command("compare")
def compare(
    campaign: Annotated[str, typer.Option(help="The campaign's slug.")],
    indicator: Annotated[str, typer.Option(help="The indicator's id.")],
) -> None:
    """The survey beside the official figures, per country; large disagreements first."""
    try:
        with transaction(_factory()) as session:
            result = official_statistics.survey_vs_official(
                session, system_actor(), campaign, indicator
            )
    except DomainError as exc:
        errors.print(exc.detail, markup=False)
        raise typer.Exit(1) from exc
    table = Table("area", "survey", "official", "year", "ratio", "flag", "note", title=result.label)
    for row in result.rows.itertuples(index=False):
        table.add_row(
            str(row.area_code),
            f"{row.survey:g}",
            f"{row.official:g}",
            str(row.official_year),
            f"{row.capture_ratio:.2f}",
            "DISAGREE" if row.disagreement else "",
            str(row.note),
        )
    console.print(table)
    console.print(
        f"Compared: {result.terms}. {len(result.flagged)} of {len(result.rows)} areas disagree "
        f"by more than x{official_statistics.DISAGREEMENT_RATIO:g}.",
        markup=False,
    )
