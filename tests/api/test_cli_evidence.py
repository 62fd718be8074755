"""``accessgap evidence barriers|profile|left-out``: each command writes its CSV files (and
figure) from the use case, lists "other" barriers for the operator, and turns a domain error
into exit code 1 with the use case's own message. The commands run in-process against the test
database: their transaction is a savepoint inside the test's, rolled back afterwards."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import api.cli_evidence
from api.cli import app
from tests.mapping.test_evidence import OTHER_TEXT, populate

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def on_test_database(
    session_factory: sessionmaker[Session], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commands open their sessions from the test's factory instead of a new engine."""
    monkeypatch.setattr(api.cli_evidence, "make_engine", lambda url: engine)
    monkeypatch.setattr(api.cli_evidence, "make_session_factory", lambda bound: session_factory)
    monkeypatch.setenv("COLUMNS", "200")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["evidence", *args])
    return result.exit_code, result.output


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.usefixtures("on_test_database")
def test_the_commands_write_the_tables_and_figures(session: Session, tmp_path: Path) -> None:
    slug = populate(session).slug
    session.flush()

    code, out = run("barriers", "--campaign", slug, "--country", "FR", "--out", str(tmp_path))
    assert code == 0, out
    table = rows(tmp_path / f"{slug}-barriers.csv")
    cost = next(r for r in table if (r["area_code"], r["barrier"]) == ("FR", "cost"))
    assert (cost["citing"], cost["responding"], cost["invited"]) == ("2", "3", "4")
    assert {r["area_code"] for r in table} == {"FR", "ALL"}
    others = rows(tmp_path / f"{slug}-barriers-other.csv")
    assert [(o["area_code"], o["centre"], o["text"]) for o in others] == [("FR", "C1", OTHER_TEXT)]
    assert (tmp_path / f"{slug}-barriers.png").read_bytes()[:8] == PNG

    code, out = run("profile", "--campaign", slug, "--country", "fr", "--out", str(tmp_path))
    assert code == 0, out
    profile = {r["indicator"]: r for r in rows(tmp_path / f"{slug}-FR-profile.csv")}
    assert set(profile) == {"pet_per_m", "pet_wait"}
    assert (profile["pet_per_m"]["rank_eu27"], profile["pet_per_m"]["ranked_of"]) == ("1", "2")
    assert (tmp_path / f"{slug}-FR-profile.png").read_bytes()[:8] == PNG

    code, out = run(
        "left-out", "--campaign", slug, "--indicator", "pet_per_m", "--distance", "100",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, out
    places = rows(tmp_path / f"{slug}-pet_per_m-left-out-places.csv")
    assert "Lyon" in {p["name"] for p in places}
    assert all(float(p["distance_km"]) > 100 for p in places)
    people = sum(int(p["population"]) for p in places)
    assert f"Beyond 100 km: {people:,} people in counted places" in out
    areas = rows(tmp_path / f"{slug}-pet_per_m-left-out-areas.csv")
    assert {"area_code", "population_beyond_100km", "share_beyond_100km"} <= set(areas[0])


@pytest.mark.usefixtures("on_test_database")
def test_a_domain_error_exits_1_with_its_message(session: Session, tmp_path: Path) -> None:
    slug = populate(session).slug
    session.flush()
    out_dir = str(tmp_path)
    code, out = run("profile", "--campaign", slug, "--country", "ES", "--out", out_dir)
    assert code == 1
    assert "expects no centre in 'ES'" in " ".join(out.split())
    code, out = run("left-out", "--campaign", slug, "--indicator", "pet_wait", "--out", out_dir)
    assert code == 1
    assert "does not say which centres offer a technology" in " ".join(out.split())
    code, out = run(
        "left-out", "--campaign", slug, "--indicator", "pet_per_m", "--distance", "5000",
        "--out", out_dir,
    )  # fmt: skip
    assert code == 1
    assert "at most 1000; got 5000" in " ".join(out.split())
    code, out = run("barriers", "--campaign", slug, "--domain", "surgery", "--out", out_dir)
    assert code == 1
    assert "no questionnaire of the domain 'surgery'" in " ".join(out.split())
    assert not list(tmp_path.iterdir())  # nothing written when the use case refused
