"""``accessgap geo import-boundaries``, ``geo import-population`` and ``maps render``: the
imports are audited like any other change, and the figures are written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app
from surveys.audit.models import AuditEvent
from surveys.db import make_engine, make_session_factory
from surveys.registry.models import Population, Region
from tests.mapping.nuts_files import write_nuts_file


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("ACCESSGAP_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_geo_imports_leave_audit_events(cli_env: str, tmp_path: Path) -> None:
    boundaries = write_nuts_file(
        tmp_path / "nuts2.geojson",
        {"FR10": (2.0, 48.0, 3.0, 49.5), "FR71": (4.0, 45.0, 5.5, 46.5)},
    )
    code, out = run("geo", "import-boundaries", str(boundaries), "--level", "2")
    assert code == 0, out
    assert "2 NUTS-2 regions (2021) loaded from nuts2.geojson." in out
    population = tmp_path / "population.csv"
    population.write_text("area_code,year,value,source\nFR10,2024,12300000,Eurostat\n", "utf-8")
    code, out = run("geo", "import-population", str(population))
    assert code == 0, out
    assert "1 population figures loaded from population.csv." in out

    engine = make_engine(cli_env)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(Region.code).where(Region.code == "FR10")) == "FR10"
        assert session.scalar(select(Population.value)) == 12_300_000
        events = {e.action: e for e in session.scalars(select(AuditEvent))}
    engine.dispose()
    imported = events["geo.import_boundaries"]
    assert imported.actor == "system:cli"
    assert imported.request_id
    assert imported.details["level"] == 2
    assert imported.details["count"] == 2
    assert imported.details["file"] == "nuts2.geojson"
    figures = events["geo.import_population"]
    assert (figures.actor, figures.details["count"]) == ("system:cli", 1)
    assert figures.details["file"] == "population.csv"


def test_a_refused_import_changes_nothing_and_records_nothing(cli_env: str, tmp_path: Path) -> None:
    level_0 = write_nuts_file(tmp_path / "nuts0.geojson", {"FR": (0, 42, 8, 51)}, level=0)
    code, out = run("geo", "import-boundaries", str(level_0), "--level", "2")
    assert code == 1
    assert "holds no NUTS level 2 region" in out
    engine = make_engine(cli_env)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.action.like("geo.%"))) is None
    engine.dispose()


def test_maps_render_writes_figures(cli_env: str, tmp_path: Path) -> None:
    assert run("demo", "load", "--centres", "60")[0] == 0
    indicators = ["prof_ccc_share", "prof_oeci_share"]  # one unit: a series with shared classes
    code, out = run("maps", "render", *(f"--indicator={i}" for i in indicators), "--out", "figs")
    assert code == 0, out
    for indicator in indicators:
        assert b"<svg" in (tmp_path / "figs" / f"{indicator}-country.svg").read_bytes()[:500]
    mixed = ["prof_ccc_share", "prof_new_patients_per_million"]
    code, out = run("maps", "render", *(f"--indicator={i}" for i in mixed), "--out", "figs")
    assert code == 1
    assert "different units" in out
    code, out = run("maps", "render", "--indicator", "nothing", "--out", "figs")
    assert code == 1
    assert "no indicator 'nothing'" in out
