from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app
from surveys.audit.models import AuditEvent
from surveys.db import make_engine, make_session_factory

FORM = """
| survey |
|        | type    | name  | label::en | label::fr |
|        | integer | units | Units     | Unités    |
| settings |
|          | form_id | version | title::en | title::fr |
|          | pet     | VERSION | PET       | TEP       |
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ACCESSGAP_DATABASE_URL", f"sqlite:///{tmp_path / 'forms.sqlite3'}")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_validate_import_publish_export_diff(workdir: Path) -> None:
    v1 = workdir / "pet1.md"
    v1.write_text(FORM.replace("VERSION", "1"), encoding="utf-8")
    v2 = workdir / "pet2.md"
    v2.write_text(
        FORM.replace("VERSION", "2").replace("| Units     |", "| Units now |"), encoding="utf-8"
    )
    assert run("forms", "validate", str(v1)) == (0, "0 error(s), 0 warning(s).\n")
    code, out = run("forms", "import", str(v1))
    assert (code, out.strip()) == (0, "pet@1 stored as a draft.")
    assert run("forms", "publish", "pet@1")[1].strip() == "pet@1 is published."
    assert run("forms", "import", str(v2))[0] == 0
    code, out = run("forms", "diff", "pet@1", "pet@2")
    assert code == 0
    assert "~ question units: label" in out
    code, out = run("forms", "export", "pet@1", "--format", "xlsx", "--out", str(workdir / "out"))
    assert code == 0, out
    workbook = openpyxl.load_workbook(workdir / "out" / "pet-1.xlsx")
    assert "survey" in workbook.sheetnames


def test_validate_exits_1_with_coded_errors(workdir: Path) -> None:
    bad = workdir / "bad.md"
    bad.write_text(
        FORM.replace("VERSION", "1").replace(
            "| integer | units |", "| integer | units |\n| | integer | units |"
        ),
        encoding="utf-8",
    )
    code, out = run("forms", "validate", str(bad))
    assert code == 1
    assert "definition.duplicate_name" in out


def test_catalogue_loads_and_publishes(workdir: Path) -> None:
    code, out = run("forms", "catalogue")
    assert (code, out.strip()) == (0, "8 catalogue questionnaires published.")
    code, out = run("forms", "list")
    assert "radiotherapy" in out


def audit_trail(workdir: Path) -> list[tuple[str, str, str | None, str | None]]:
    """(actor, action, object id, via) of every audit event in the command's database."""
    engine = make_engine(f"sqlite:///{workdir / 'forms.sqlite3'}")
    with make_session_factory(engine)() as session:
        rows = [
            (e.actor, e.action, e.object_id, e.details.get("via"))
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.actor != "system:packaged"  # the packaged reference data db upgrade loads
        ]
    engine.dispose()
    return rows


def test_import_and_publish_from_the_command_line_are_audited(workdir: Path) -> None:
    form = workdir / "pet1.md"
    form.write_text(FORM.replace("VERSION", "1"), encoding="utf-8")
    assert run("forms", "import", str(form))[0] == 0
    assert run("forms", "import", str(form))[0] == 0  # the same content: nothing new
    assert run("forms", "publish", "pet@1")[0] == 0
    assert audit_trail(workdir) == [
        ("system:cli", "questionnaire.import", "pet@1", "cli"),
        ("system:cli", "questionnaire.publish", "pet@1", "cli"),
    ]
