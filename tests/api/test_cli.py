from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app


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
