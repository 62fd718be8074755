"""The Submit button's work in SQL: a submission costs a fixed, small number of statements,
and its one write comes after the reads and the validation."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.mapping.spies import statements
from tests.web.test_respondent_pages import csrf_and_version, invited, sign_in

__all__ = ["invited"]  # the fixture, shared with the pages' tests

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def test_a_submission_reads_then_writes_in_few_statements(
    client: TestClient, invited: dict[str, object], engine: Engine
) -> None:
    sign_in(client, str(invited["token"]))
    csrf, version = csrf_and_version(client.get("/r/forms/petscan").text)
    with statements(engine) as seen:
        done = client.post(
            "/r/forms/petscan",
            follow_redirects=False,
            data={
                "csrf_token": csrf,
                "expected_version": version,
                "action": "submit",
                "has_pet": "yes",
                "units": "2",
                "devices.0.vendor": "Siemens",
                "devices.__present__": "1",
                "notes": "Ligne 1",
            },
        )
    assert done.status_code == 303
    work = [" ".join(s.split()) for s in seen if not s.startswith(("SAVEPOINT", "RELEASE"))]
    kinds = ["write" if WRITES.match(s) else "read" for s in work]
    # The respondent session, the questionnaire version (its definition left unloaded: the
    # compiled form is kept per content hash) and the draft; then, validated, the one write:
    # the response, its first version row and the audit event.
    assert kinds == ["read"] * 3 + ["write"] * 3, work
    assert [s.split()[:3] for s in work[3:]] == [
        ["UPDATE", "response", "SET"],
        ["INSERT", "INTO", "response_version"],
        ["INSERT", "INTO", "audit_event"],
    ]
    assert "definition" not in work[1].split(" FROM ")[0]
