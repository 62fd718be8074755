"""``accessgap geo ...`` and ``maps render``: a fresh database holds the packaged official data,
imports are audited and refused whole, NUTS versions switch only when asked, and the figures
are written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.cli import app
from surveys.audit.models import AuditEvent
from surveys.db import make_engine, make_session_factory
from surveys.registry.models import BoundaryVersion, Centre, Population, Region
from tests.mapping.nuts_files import write_nuts_file


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("ACCESSGAP_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables unwrapped
    monkeypatch.chdir(tmp_path)
    code, out = run("db", "upgrade")
    assert code == 0, out
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def flat(text: str) -> str:
    """Output with its whitespace collapsed: the console wraps sentences at the width of the
    terminal the tests run in."""
    return " ".join(text.split())


def geo_events(url: str) -> list[AuditEvent]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        found = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("geo.%")).order_by(AuditEvent.id)
            )
        )
    engine.dispose()
    return found


def test_a_fresh_database_holds_the_packaged_boundaries_and_figures(cli_env: str) -> None:
    engine = make_engine(cli_env)
    with make_session_factory(engine)() as session:
        levels = session.execute(
            select(Region.level, func.count(Region.id)).group_by(Region.level)
        ).all()
        assert dict(levels) == {0: 37, 2: 333}
        assert session.scalar(select(func.count(Population.id))) == 2_010
        active = session.execute(
            select(BoundaryVersion.level, BoundaryVersion.nuts_version).where(
                BoundaryVersion.active.is_(True)
            )
        ).all()
        assert sorted(active) == [(0, "2021"), (2, "2021")]
    engine.dispose()
    assert {e.actor for e in geo_events(cli_env)} == {"system:packaged"}
    code, out = run("db", "upgrade")  # again: nothing is loaded twice
    assert code == 0, out
    assert "Packaged" not in out
    assert "packaged Eurostat" not in out
    code, out = run("geo", "denominators", "--year", "2025")
    assert code == 0, out
    assert "Eurostat demo_r_pjangroup" in flat(out)
    assert "On stand-ins: BA, GE, MD, UA, XK." in flat(out)
    assert "On stand-ins: UKN0." in flat(out)


def test_another_nuts_version_asks_for_activate(cli_env: str, tmp_path: Path) -> None:
    boundaries = write_nuts_file(
        tmp_path / "nuts2.geojson",
        {"FR10": (2.0, 48.0, 3.0, 49.5), "FR71": (4.0, 45.0, 5.5, 46.5)},
    )
    code, out = run("geo", "import-boundaries", str(boundaries), "--level", "2")
    assert code == 2
    assert "give it with --nuts-version" in flat(out)
    code, out = run(
        "geo", "import-boundaries", str(boundaries), "--level", "2", "--nuts-version", "2024"
    )
    assert code == 0, out
    assert "2 NUTS-2 regions (2024) loaded from nuts2.geojson." in flat(out)
    assert "NUTS 2021 stays the active level-2 version" in flat(out)
    assert "accessgap geo versions --activate 2024 --level 2" in flat(out)

    code, out = run("geo", "versions")
    assert code == 0, out
    assert "2024" in flat(out)
    assert "active" in flat(out)

    code, out = run("geo", "versions", "--activate", "2024", "--level", "2")
    assert code == 0, out
    assert "NUTS 2024 is now the active level-2 version (was 2021)." in flat(out)
    code, out = run("geo", "versions", "--activate", "2016")
    assert code == 1
    assert "No NUTS 2016 boundaries of level 2 are loaded" in flat(out)

    imported, switched = [e for e in geo_events(cli_env) if e.actor == "system:cli"][:2]
    assert (imported.action, imported.details["active"]) == ("geo.import_boundaries", False)
    assert imported.details["file"] == "nuts2.geojson"
    assert imported.request_id
    assert (switched.action, switched.details["nuts_version"]) == (
        "geo.activate_boundaries",
        "2024",
    )


def test_a_population_file_is_applied_through_the_crosswalk(cli_env: str, tmp_path: Path) -> None:
    population = tmp_path / "population.csv"
    population.write_text(
        "area_code,year,value,source\n"
        "DEU,2025,83577140,Destatis\n"  # ISO alpha-3: applied, not silently dropped
        "FRA,2025,68635943,Insee\n"
        "EL,2025,10400720,ELSTAT\n"  # Eurostat's Greece
        "UKN0,2024,1920400,NISRA\n",
        "utf-8",
    )
    code, out = run("geo", "import-population", str(population))
    assert code == 0, out
    assert "4 figures loaded from population.csv (4 new, 0 replaced)" in flat(out)
    assert "areas updated: 3 countries, 1 NUTS-2." in flat(out)
    assert "countries: 37 of 42 have an official figure, 5 still use stand-ins" in flat(out)
    assert "NUTS-2: 333 of 333 have an official figure, 0 still use stand-ins." in flat(out)
    engine = make_engine(cli_env)
    with make_session_factory(engine)() as session:
        codes = set(session.scalars(select(Population.area_code).where(Population.year == 2025)))
    engine.dispose()
    assert codes == {"DE", "FR", "GR"}
    event = geo_events(cli_env)[-1]
    assert (event.action, event.actor, event.details["count"]) == (
        "geo.import_population",
        "system:cli",
        4,
    )


def test_a_bad_population_file_writes_nothing_and_names_each_row(
    cli_env: str, tmp_path: Path
) -> None:
    population = tmp_path / "bad.csv"
    population.write_text(
        "area_code,year,value,source\n"
        "AT,2025,9200000,Statistik Austria\n"
        "DE,2025,inf,Destatis\n"
        "FR,2025,1e30,Insee\n"
        "IT,2025,-5,Istat\n"
        "ES,2025,12.7,INE\n"
        "AT,2025,9200001,Statistik Austria\n",
        "utf-8",
    )
    before = len(geo_events(cli_env))
    code, out = run("geo", "import-population", str(population))
    assert code == 1
    for row, message in (
        ("3", "not a finite number"),
        ("4", "implausibly large"),
        ("5", "cannot be negative"),
        ("6", "not a whole number"),
        ("7", "also in row 2"),
    ):
        assert any(
            line.strip("│ ").startswith(row) and message in line for line in out.splitlines()
        )
    assert "5 problem(s); nothing was imported." in flat(out)
    engine = make_engine(cli_env)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(Population.id).where(Population.year == 2025)) is None
    engine.dispose()
    assert len(geo_events(cli_env)) == before


def test_a_refused_boundary_import_changes_nothing_and_records_nothing(
    cli_env: str, tmp_path: Path
) -> None:
    before = len(geo_events(cli_env))
    level_0 = write_nuts_file(tmp_path / "nuts0.geojson", {"FR": (0, 42, 8, 51)}, level=0)
    code, out = run(
        "geo", "import-boundaries", str(level_0), "--level", "2", "--nuts-version", "2024"
    )
    assert code == 1
    assert "holds no NUTS level 2 region" in flat(out)
    assert len(geo_events(cli_env)) == before


def test_centres_imported_are_placed_and_the_unplaced_listed(cli_env: str, tmp_path: Path) -> None:
    centres = tmp_path / "centres.csv"
    centres.write_text(
        "name,country,latitude,longitude\n"
        "Policlinico Vaticano,IT,41.9022,12.4533\n"
        "Hospital del Mar (offshore),ES,41.30,2.30\n"
        "Ship hospital,ES,40.50,4.50\n"
        "Charité,DEU,52.5265,13.3770\n",
        "utf-8",
    )
    code, out = run("centres", "import", str(centres))
    assert code == 0, out
    assert "4 centres were created" in flat(out)
    assert "1 placed, 2 placed by proximity" in flat(out)
    assert "1 unplaced" in flat(out)
    assert "Ship hospital" in flat(out)
    assert "40.50000" in flat(out)
    assert "4.50000" in flat(out)
    engine = make_engine(cli_env)
    with make_session_factory(engine)() as session:
        placed = dict(
            session.execute(
                select(Centre.name, Region.code).outerjoin(Region, Region.id == Centre.region_id)
            ).all()
        )
    engine.dispose()
    assert placed["Policlinico Vaticano"] == "ITI4"
    assert placed["Hospital del Mar (offshore)"] == "ES51"
    assert placed["Charité"] == "DE30"
    assert placed["Ship hospital"] is None


def test_maps_render_writes_country_and_regional_figures(cli_env: str, tmp_path: Path) -> None:
    code, out = run("demo", "load", "--centres", "60")
    assert code == 0, out
    assert "Centres in NUTS 2021 regions:" in flat(out)
    indicators = ["prof_ccc_share", "prof_oeci_share"]  # one unit: a series with shared classes
    code, out = run("maps", "render", *(f"--indicator={i}" for i in indicators), "--out", "figs")
    assert code == 0, out
    for indicator in indicators:
        assert b"<svg" in (tmp_path / "figs" / f"{indicator}-country.svg").read_bytes()[:500]
    mixed = ["prof_ccc_share", "prof_new_patients_per_million"]
    code, out = run("maps", "render", *(f"--indicator={i}" for i in mixed), "--out", "figs")
    assert code == 1
    assert "different units" in flat(out)
    # NUTS-2 works on a fresh database: the packaged boundaries and figures are there.
    code, out = run(
        "maps",
        "render",
        "--indicator=rt_mv_units_per_million",
        "--level=nuts2",
        "--format=png",
        "--out",
        "figs",
    )
    assert code == 0, out
    assert (tmp_path / "figs" / "rt_mv_units_per_million-nuts2.png").read_bytes()[:4] == b"\x89PNG"
    code, out = run(
        "maps", "render", "--indicator=rt_mv_units_per_1000_cases", "--format=svg", "--out", "figs"
    )
    assert code == 0, out
    svg = (tmp_path / "figs" / "rt_mv_units_per_1000_cases-country.svg").read_bytes()
    assert b"<svg" in svg[:500]
    code, out = run(
        "maps", "render", "--indicator=rt_mv_units_per_1000_cases", "--level=nuts2", "--out", "x"
    )
    assert code == 1
    assert "per country only" in flat(out)
    code, out = run("maps", "render", "--indicator", "nothing", "--out", "figs")
    assert code == 1
    assert "no indicator 'nothing'" in flat(out)
