"""Start-up: ``accessgap --help`` and the account commands load no analysis library, the
server no figure library; the lazily loaded sub-commands say what their modules say."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperGroup
from typer.testing import CliRunner

from api.cli import app
from api.cli_lazy import LAZY_COMMANDS

ROOT = Path(__file__).resolve().parents[2]
# Each takes a second or more to import on the 2-core machine (scipy, scikit-learn and
# matplotlib came in through mapclassify; geopandas and pandas through the geography commands).
HEAVY = ("scipy", "sklearn", "matplotlib", "mapclassify", "geopandas", "pandas", "shapely")
PROBE = """
import json, runpy, sys
HEAVY = {heavy!r}
loaded = {{}}
sys.argv = ["accessgap", "--help"]
try:
    runpy.run_module("api.cli", run_name="__main__")
except SystemExit as exc:
    loaded["help_exit"] = exc.code
loaded["help"] = [m for m in HEAVY if m in sys.modules]
import api.cli_accounts  # what ``accessgap users create`` loads
loaded["users"] = [m for m in HEAVY if m in sys.modules]
import api.app  # the server: the app factory, every route and page
loaded["server"] = [m for m in HEAVY if m in sys.modules]
print(json.dumps(loaded))
"""


@pytest.fixture(scope="module")
def loaded() -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    result: dict[str, object] = json.loads(completed.stdout.splitlines()[-1])
    return result


def test_help_imports_no_analysis_library(loaded: dict[str, object]) -> None:
    assert loaded["help_exit"] == 0
    assert loaded["help"] == []


def test_users_commands_import_no_analysis_library(loaded: dict[str, object]) -> None:
    assert loaded["users"] == []


def test_server_imports_no_figure_or_classification_library(loaded: dict[str, object]) -> None:
    # geopandas is the maps' data structure and loads with the app; the rest loads on use.
    assert not {"scipy", "sklearn", "matplotlib", "mapclassify"} & set(loaded["server"])  # type: ignore[arg-type]


def _first_paragraph(text: str | None) -> str:
    return " ".join(inspect.cleandoc(text or "").split("\n\n")[0].split())


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_listed_help_is_the_commands_own(name: str) -> None:
    real = LAZY_COMMANDS[name].load(name)
    assert real.name == name
    assert _first_paragraph(LAZY_COMMANDS[name].help) == _first_paragraph(real.help)


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_lazy_command_runs_its_own_options(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    real = LAZY_COMMANDS[name].load(name)
    options = [
        opt
        for param in real.params
        for opt in param.opts
        if opt.startswith("--") and "completion" not in opt
    ]
    if isinstance(real, TyperGroup):
        for sub in real.commands:
            assert sub in result.output
    for option in options:
        assert option in result.output


def test_unknown_command_is_refused_with_the_list() -> None:
    result = CliRunner().invoke(app, ["nosuch"])
    assert result.exit_code == 2
    assert "No such command" in result.output
