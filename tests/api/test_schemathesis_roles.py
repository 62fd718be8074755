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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
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


@dataclass(frozen=True)
class Credentials:
    """Where a role's credentials go in a request, as the OpenAPI document declares them."""

    headers: dict[str, str]
    cookies: dict[str, str]


@pytest.fixture
def sqlite_app(
    test_databases: SessionDatabases, tmp_path: Path
) -> Iterator[tuple[TestClient, sessionmaker[Session]]]:
    url = test_databases.url("sqlite")
    with rolled_back(test_databases.engine(url)) as factory:
        with app_client(settings_for(url, tmp_path), factory) as client:
            yield client, factory


def credentials(
    client: TestClient, factory: sessionmaker[Session], role: str
) -> Credentials:
    if role == "anonymous":
        return Credentials({}, {})
    if role in ("admin", "coordinator"):
        signed = sign_in(client, factory, role=role)
        client.cookies.clear()
        client.headers.pop("X-CSRF-Token", None)
        return Credentials({"X-CSRF-Token": signed.csrf}, {SESSION_COOKIE: signed.cookie})
    with factory() as session, session.begin():
        user_id = make_user(session, role=role).id
    scopes = sorted(TOKEN_SCOPES & ROLE_PERMISSIONS[Role(role)])
    return Credentials({"Authorization": f"Bearer {issue_token(factory, user_id, scopes)}"}, {})


def with_credentials(case: Any, given: Credentials) -> Any:
    """A copy of the case carrying the role's credentials (kept apart from generated ones)."""
    sent = case.partial_deepcopy()
    sent.headers = {**(sent.headers or {}), **given.headers}
    if given.cookies:
        sent.cookies = {**(sent.cookies or {}), **given.cookies}
    return sent


def run_operation(
    operation: Any,
    mode: GenerationMode,
    app: FastAPI,
    roles: dict[str, Credentials],
    sent: Counter[str],
) -> str | None:
    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        for role, given_credentials in roles.items():
            sent[role] += 1
            try:
                with_credentials(case, given_credentials).call_and_validate(app=app)
            except Exception as exc:
                exc.add_note(f"as {role}")
                raise

    try:
        run()
    except Unsatisfiable:
        return None  # nothing violates the schema of an operation without constrained inputs
    except Exception as exc:  # report every failing operation together
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
    config = schemathesis.Config.from_dict({"analysis": {"constants": {"enabled": False}}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
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
