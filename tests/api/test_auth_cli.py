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
from surveys.campaigns.models import Campaign
from surveys.db import make_engine, make_session_factory, utcnow
from tests.accounts_fixtures import make_user


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


def test_unlock_unblock_and_grants_from_the_command_line(cli_env: str) -> None:
    """The operator's unlock path and researcher grants, each audited as ``system:cli``."""
    runner = CliRunner()
    engine = make_engine(cli_env)
    with make_session_factory(engine)() as session, session.begin():
        make_user(session, role="researcher", email="r@example.org")
        session.add(Campaign(slug="wave-z", name="Wave Z", status="draft", created_at=utcnow()))
    engine.dispose()

    assert runner.invoke(app, ["users", "unlock", "r@example.org"]).exit_code == 0
    missing = runner.invoke(app, ["users", "unlock", "nobody@example.org"])
    assert (missing.exit_code, "No account signs in as" in missing.output) == (1, True)
    unblocked = runner.invoke(app, ["users", "unblock-address", "2001:db8::7"])
    assert unblocked.exit_code == 0, unblocked.output
    assert "2001:db8::/64 may sign in again." in unblocked.output
    assert runner.invoke(app, ["users", "unblock-address", "nowhere"]).exit_code == 1

    assert runner.invoke(app, ["grants", "add", "r@example.org", "wave-z"]).exit_code == 0
    again = runner.invoke(app, ["grants", "add", "r@example.org", "wave-z"])
    assert "was already granted" in again.output
    assert "wave-z" in runner.invoke(app, ["grants", "list"]).output
    assert runner.invoke(app, ["grants", "revoke", "r@example.org", "wave-z"]).exit_code == 0
    gone = runner.invoke(app, ["grants", "revoke", "r@example.org", "wave-z"])
    assert (gone.exit_code, "holds no grant" in gone.output) == (1, True)

    engine = make_engine(cli_env)
    with make_session_factory(engine)() as session:
        audited = session.execute(
            select(AuditEvent.action, AuditEvent.actor).where(
                AuditEvent.action.in_(
                    [
                        "user.unlock",
                        "throttle.unblock_address",
                        "campaign.grant",
                        "campaign.grant_revoke",
                    ]
                )
            )
        ).all()
    engine.dispose()
    assert sorted(a for a, _ in audited) == [
        "campaign.grant",
        "campaign.grant_revoke",
        "throttle.unblock_address",
        "user.unlock",
    ]
    assert {actor for _, actor in audited} == {"system:cli"}
