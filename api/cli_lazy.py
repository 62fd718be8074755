"""Sub-commands of ``accessgap`` whose modules load only when they are run.

``accessgap --help`` lists every sub-command from its one-line help below, without importing
its module: the geography commands pull in geopandas, pandas and shapely, the exports pandas
and openpyxl, and a command should pay only for what it uses (``accessgap users create`` needs
none of them). Running ``accessgap geo ...`` imports :mod:`api.cli_geo` and hands over to its
real command group, so its own ``--help`` and options are exactly those of the module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import typer
from typer import _click as click  # typer's own copy of click: its classes are these
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """Where a sub-command lives: ``module:attribute`` (a Typer app or a command function)."""

    target: str
    help: str

    def load(self, name: str) -> TyperCommand | TyperGroup:
        """The real click command, its module imported now."""
        module_name, attribute = self.target.split(":")
        found = getattr(importlib.import_module(module_name), attribute)
        command: TyperCommand | TyperGroup
        if isinstance(found, typer.Typer):
            command = typer.main.get_group(found)  # a group even when it has one command
        else:
            wrapper = typer.Typer()
            wrapper.command(name)(found)
            command = typer.main.get_command(wrapper)  # type: ignore[assignment]
        command.name = name
        return command


LAZY_COMMANDS: dict[str, LazyCommand] = {
    "users": LazyCommand("api.cli_accounts:users_app", "Staff accounts."),
    "privacy": LazyCommand(
        "api.cli_accounts:privacy_app", "Personal data: erasure and access requests (GDPR)."
    ),
    "grants": LazyCommand(
        "api.cli_grants:grants_app", "Researcher grants: the campaigns a researcher may export."
    ),
    "reference": LazyCommand(
        "api.cli_reference:reference_app",
        "Official statistics beside the survey (e.g. IAEA DIRAC).",
    ),
    "worker": LazyCommand(
        "api.cli_jobs:worker_command",
        "Run background jobs: figure series, big exports (and later evidence packs).",
    ),
    "forms": LazyCommand(
        "api.cli_forms:forms_app", "Questionnaires: XLSForm definitions and their versions."
    ),
    "geo": LazyCommand(
        "api.cli_geo:geo_app",
        "Official boundaries (Eurostat GISCO NUTS), their versions, population figures and "
        "where the centres lie.",
    ),
    "maps": LazyCommand("api.cli_geo:maps_app", "Publication figures of the indicator maps."),
    "evidence": LazyCommand(
        "api.cli_evidence:evidence_app",
        "Evidence for the paper: barriers, country profiles, who is left out.",
    ),
    "export": LazyCommand(
        "api.cli_export:export_command",
        "Export responses (or a dataset release) as csv, csv-long, xlsx, datapackage, sav, dta "
        "or geojson into the folder OUT, with a manifest of row counts and SHA-256 hashes.",
    ),
}


class _Placeholder(TyperCommand):
    """What ``--help`` lists for a sub-command that is not loaded: its name and help."""


class LazyGroup(TyperGroup):
    """The top-level group: its own commands, plus :data:`LAZY_COMMANDS` loaded when run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in LAZY_COMMANDS:
            return found
        return _Placeholder(cmd_name, help=LAZY_COMMANDS[cmd_name].help)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, _Placeholder) and name is not None:
            command = LAZY_COMMANDS[name].load(name)
            self.add_command(command, name)
        return name, command, rest
