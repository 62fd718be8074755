from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app
from surveys.audit.models import AuditEvent
from surveys.db import make_engine, make_session_factory


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ACCESSGAP_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_upgrade_demo_export_import_downgrade(cli_env: Path) -> None:
    code, out = run("db", "upgrade")
    assert code == 0, out
    assert "countries added" in out

    code, out = run("demo", "load", "--centres", "120")
    assert code == 0, out
    assert "120 synthetic centres created" in out
    code, out = run("demo", "load", "--centres", "120")
    assert "0 synthetic centres created" in out

    export = cli_env / "centres.csv"
    code, out = run("centres", "export", str(export))
    assert code == 0, out
    lines = export.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 121
    assert "(synthetic)" in lines[1]

    code, out = run("centres", "import", str(export), "--dry-run")
    assert code == 0, out
    assert "0 centres would be created, 120 updated" in out

    code, out = run("db", "check")
    assert code == 0, out
    code, out = run("db", "downgrade", "base")
    assert code == 0, out


def test_import_with_errors_exits_1_and_names_the_rows(cli_env: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    bad = cli_env / "bad.csv"
    bad.write_text("name,country,latitude,longitude\n,FR,1,2\nX,FR,100,2\n", encoding="utf-8")
    code, out = run("centres", "import", str(bad))
    assert code == 1
    assert "nothing was imported" in out
    assert "impossible latitude" in out


def test_a_centre_import_from_the_command_line_is_audited(cli_env: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    good = cli_env / "centres.csv"
    good.write_text("name,country,city\nCentre A,FR,Lyon\nCentre B,BE,Gent\n", encoding="utf-8")
    assert run("centres", "import", str(good), "--dry-run")[0] == 0
    code, out = run("centres", "import", str(good))
    assert code == 0, out
    engine = make_engine(f"sqlite:///{cli_env / 'cli.sqlite3'}")
    with make_session_factory(engine)() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action.like("centre%"))))
    engine.dispose()
    assert [(e.actor, e.action, e.details) for e in events] == [
        ("system:cli", "centre.import", {"created": 2, "updated": 0, "via": "cli"})
    ]
