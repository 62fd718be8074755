"""``accessgap users create`` (the first admin) and ``accessgap privacy ...``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app
from surveys.accounts.models import User
from surveys.audit.models import AuditEvent
from surveys.db import make_engine, make_session_factory


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("ACCESSGAP_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    return url


def test_create_the_first_admin_with_totp(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSGAP_NEW_PASSWORD", "a long admin pass phrase")
    result = CliRunner().invoke(
        app, ["users", "create", "--role", "admin", "--email", "Root@Example.org", "--name", "Root"]
    )
    assert result.exit_code == 0, result.output
    assert "User 1 created with the role admin." in result.output
    assert "otpauth://totp/accessgap:root%40example.org?secret=" in result.output
    assert "a long admin pass phrase" not in result.output
    engine = make_engine(cli_env)
    with make_session_factory(engine)() as session:
        user = session.scalar(select(User))
        assert user is not None
        assert (user.email, user.role) == ("root@example.org", "admin")
        assert user.totp_secret is not None
        # The first event after the packaged reference data that db upgrade loads.
        event = session.scalar(select(AuditEvent).where(AuditEvent.actor != "system:packaged"))
        assert event is not None
        assert (event.actor, event.action) == ("system:cli", "user.create")
    engine.dispose()
    again = CliRunner().invoke(
        app, ["users", "create", "--role", "admin", "--email", "root@example.org"]
    )
    assert again.exit_code == 1
    assert "exists already" in again.output


def test_a_weak_password_or_a_bad_scope_is_refused(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCESSGAP_NEW_PASSWORD", "password1234")
    weak = CliRunner().invoke(app, ["users", "create", "--role", "researcher", "--email", "r@x.eu"])
    assert weak.exit_code == 1
    assert "most common passwords" in weak.output
    monkeypatch.setenv("ACCESSGAP_NEW_PASSWORD", "a long lead pass phrase")
    unscoped = CliRunner().invoke(
        app, ["users", "create", "--role", "domain_lead", "--email", "l@x.eu"]
    )
    assert unscoped.exit_code == 1
    assert "at least one domain" in unscoped.output
    scoped = CliRunner().invoke(
        app,
        [
            "users",
            "create",
            "--role",
            "domain_lead",
            "--email",
            "l@x.eu",
            "--domain",
            "radiomics",
            "--no-totp",
        ],
    )
    assert scoped.exit_code == 0, scoped.output
    assert "otpauth" not in scoped.output


def test_privacy_commands(cli_env: str, tmp_path: Path) -> None:
    out = tmp_path / "subject.json"
    result = CliRunner().invoke(
        app, ["privacy", "access-request", "nobody@example.org", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text("utf-8"))["subject"] == "nobody@example.org"
    missing = CliRunner().invoke(app, ["privacy", "erase-contact", "7"])
    assert missing.exit_code == 1
    assert "No contact has this id." in missing.output
