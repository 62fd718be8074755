"""``accessgap db backup`` and ``db restore``: exit codes and messages an operator relies on.

The backup itself (both databases, every kind of damage) is tested in
``tests/surveys/test_backup.py``; the drill under load in ``tests/reliability/test_backup.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from api.cli import app
from surveys import migrate

PASSPHRASE = "a long passphrase for the drill"
HEAD = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ACCESSGAP_DATABASE_URL", f"sqlite:///{tmp_path / 'live.sqlite3'}")
    monkeypatch.setenv("DRILL_PASSPHRASE", PASSPHRASE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_backup_then_restore_into_an_empty_database(cli_env: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    file = cli_env / "nightly.backup"
    code, out = run("db", "backup", "--out", str(file), "--passphrase-env", "DRILL_PASSPHRASE")
    assert code == 0, out
    assert "written to" in out
    assert f"revision {HEAD}" in out

    restored = cli_env / "restored.sqlite3"
    code, out = run(
        "db",
        "restore",
        str(file),
        "--into",
        f"sqlite:///{restored}",
        "--passphrase-env",
        "DRILL_PASSPHRASE",
    )
    assert code == 0, out
    assert "every table matches the backup's manifest" in out
    assert restored.is_file()

    code, out = run(
        "db",
        "restore",
        str(file),
        "--into",
        f"sqlite:///{restored}",
        "--passphrase-env",
        "DRILL_PASSPHRASE",
    )
    assert code == 1
    assert "not empty" in out


def test_a_wrong_passphrase_exits_100_and_creates_nothing(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("db", "upgrade")[0] == 0
    file = cli_env / "nightly.backup"
    assert run("db", "backup", "--out", str(file), "--passphrase-env", "DRILL_PASSPHRASE")[0] == 0

    monkeypatch.setenv("DRILL_PASSPHRASE", "guessed")
    target = cli_env / "restored.sqlite3"
    code, out = run(
        "db",
        "restore",
        str(file),
        "--into",
        f"sqlite:///{target}",
        "--passphrase-env",
        "DRILL_PASSPHRASE",
    )
    assert code == 100
    assert "Wrong passphrase" in out
    assert not target.exists()


def test_the_passphrase_must_come_from_the_environment(cli_env: Path) -> None:
    code, out = run("db", "backup", "--out", str(cli_env / "x.backup"), "--passphrase-env", "NOPE")
    assert code == 2
    assert "NOPE" in out
    assert not (cli_env / "x.backup").exists()
