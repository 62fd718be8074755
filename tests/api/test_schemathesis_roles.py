"""The API contract per role: schemathesis with every check it has, as each of the five roles.

Every operation of the app's own OpenAPI document, schema-conforming (positive) and
schema-violating (negative) inputs, with a fixed seed, against the app on SQLite in-process
(ASGI) inside one rolled-back transaction. Each generated case is sent once as each role, with
that role's credentials in the places the document declares (bearer token, or session cookie
plus CSRF header), so schemathesis's ``ignored_auth`` check can take them away and see the
refusal. The checks are all of schemathesis's defaults (server errors, status codes, content
types, response headers and schemas, positive data accepted, negative data rejected, missing
headers, ignored authentication, ...); ``tests/api/test_schemathesis.py`` runs the same
operations on both databases with the four conformance checks.

Per role at least ``MIN_CASES`` requests; the counts and the wall time are printed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy.orm import Session, sessionmaker

from api.cookies import SESSION_COOKIE
from surveys.policy import ROLE_PERMISSIONS, TOKEN_SCOPES, Role
from tests.accounts_fixtures import issue_token, make_user, sign_in
from tests.builders import make_centre
from tests.conftest import SessionDatabases, app_client, rolled_back, settings_for

ROLES = ("anonymous", "researcher", "domain_lead", "coordinator", "admin")
# Generated cases per operation and mode; every case goes to every role.
EXAMPLES = {GenerationMode.POSITIVE: 16, GenerationMode.NEGATIVE: 6}
MIN_CASES = 1000  # requests per role, at least
KNOWN_CENTRE = "5c4e3a7a-0d1e-4c2b-9f10-000000000029"
# Operations whose well-formed bodies can still be refused with 422, because what makes them
# valid is beyond a schema: the content of an uploaded questionnaire file, or references to
# questionnaires that must be published. Everywhere else a schema-valid request must not get
# 422 (schemathesis's positive_data_acceptance check).
CONTENT_CHECKED = {
    ("POST", "/api/v1/forms"): "an uploaded questionnaire is checked against the XLSForm rules",
    ("POST", "/api/v1/forms/validate"): "the same check, without saving",
    ("POST", "/api/v1/campaigns"): "the questionnaires named must exist and be published",
    # a date range must not end before it starts: one field against another, which an OpenAPI
    # parameter list cannot say
    # (and a label language must be one the exported questionnaires have)
    ("GET", "/api/v1/exports/{format}"): "submitted_to must not be before submitted_from",
    ("GET", "/api/v1/exports/{format}/identified"): "the same date range and language",
}
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429"]


def schemathesis_config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            # literal values from the code would only slow generation down here
            "analysis": {"constants": {"enabled": False}},
            "operations": [
                {
                    "include-method": method,
                    "include-path": path,
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": [*POSITIVE_STATUSES, "422"]
                        }
                    },
                }
                for method, path in CONTENT_CHECKED
            ],
        }
    )


@pytest.fixture
def sqlite_app(
    test_databases: SessionDatabases, tmp_path: Path
) -> Iterator[tuple[TestClient, sessionmaker[Session]]]:
    url = test_databases.url("sqlite")
    with (
        rolled_back(test_databases.engine(url)) as factory,
        app_client(settings_for(url, tmp_path), factory) as client,
    ):
        yield client, factory


def credentials(client: TestClient, factory: sessionmaker[Session], role: str) -> dict[str, str]:
    """The role's credentials as request headers: a bearer token, or the session cookie (in
    ``Cookie``) with its CSRF header. Passed to each call, so schemathesis knows them for the
    role's own and can strip them to probe the refusal (its ``ignored_auth`` check)."""
    if role == "anonymous":
        return {}
    if role in ("admin", "coordinator"):
        signed = sign_in(client, factory, role=role)
        client.cookies.clear()
        return {"Cookie": f"{SESSION_COOKIE}={signed.cookie}", "X-CSRF-Token": signed.csrf}
    with factory() as session, session.begin():
        user_id = make_user(session, role=role).id
    scopes = sorted(TOKEN_SCOPES & ROLE_PERMISSIONS[Role(role)])
    return {"Authorization": f"Bearer {issue_token(factory, user_id, scopes)}"}


def run_operation(
    operation: Any,
    mode: GenerationMode,
    app: FastAPI,
    roles: dict[str, dict[str, str]],
    sent: Counter[str],
) -> str | None:
    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.generate),  # a failure is reported as found, unshrunk
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        for role, headers in roles.items():
            sent[role] += 1
            try:
                case.call_and_validate(headers=headers, app=app)
            except Exception as exc:
                exc.add_note(f"as {role}")
                raise

    try:
        run()
    except Unsatisfiable:
        return None  # nothing violates the schema of an operation without constrained inputs
    except (Exception, BaseExceptionGroup) as exc:  # report every failing operation together
        notes = " ".join(getattr(exc, "__notes__", []))
        return f"{operation.label} [{mode.value}] {notes}: {str(exc)[:1500]}"
    return None


def test_every_role_gets_answers_within_the_contract(
    sqlite_app: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, factory = sqlite_app
    app: FastAPI = client.app  # type: ignore[assignment]
    with factory() as session, session.begin():
        centre = make_centre(session, name="Schemathesis centre", country="IT", city="Milano")
        centre.public_id = KNOWN_CENTRE
    roles = {role: credentials(client, factory, role) for role in ROLES}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=schemathesis_config())
    operations = [result.ok() for result in schema.get_all_operations()]
    sent: Counter[str] = Counter()
    failures: list[str] = []
    started = time.monotonic()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for operation in operations:
            failure = run_operation(operation, mode, app, roles, sent)
            if failure:
                failures.append(failure)
    elapsed = time.monotonic() - started
    print(
        f"schemathesis per role, all checks: {dict(sent)} requests over "
        f"{len(operations)} operations in {elapsed:.1f} s"
    )
    assert failures == [], "\n\n".join(failures)
    assert all(sent[role] >= MIN_CASES for role in ROLES), sent
