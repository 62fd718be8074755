"""Schemathesis against the app's own OpenAPI schema (RELIABILITY.md scenarios 28 and 29).

Every operation, positive (schema-conforming) and negative (schema-violating) inputs, as every
role with its own credentials, with a fixed seed (derandomized), on SQLite and PostgreSQL. The
checks: no server error, responses conform to their declared schema, status codes and content
types are the documented ones. ``KNOWN_FAILURES`` must stay empty.

The cases run in-process through the ASGI transport, inside the test's rolled-back transaction.
Each case is generated once and sent as every role whose share of examples it falls in (the
admin's 16 per operation and mode, then the first 6 as a coordinator, the first 4 as the other
roles): the derandomized generator gave each role the same cases anyway, so this sends exactly
the requests it did when each role generated its own, for about half the generation time. Each
database and mode is its own test, so the four can run on different xdist workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker

from surveys.policy import TOKEN_SCOPES
from tests.accounts_fixtures import issue_token, make_user, sign_in
from tests.builders import make_centre

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
KNOWN_FAILURES: list[str] = []
# Examples per operation and generation mode, for each role: the admin reaches every operation,
# the other roles mostly prove that their 401/403 answers are documented ones.
EXAMPLES = {"admin": 16, "coordinator": 6, "domain_lead": 4, "researcher": 4, "anonymous": 4}
# Schema-violating inputs for the roles that reach the handlers; the others are refused first.
NEGATIVE_ROLES = frozenset({"admin", "coordinator"})
# Per database and mode: at least 1,000 cases over the SQLite and PostgreSQL runs together.
MIN_CASES = {GenerationMode.POSITIVE: 350, GenerationMode.NEGATIVE: 150}


def credentials(
    client: TestClient, session_factory: sessionmaker[Session], role: str
) -> dict[str, str]:
    """Headers (and cookie) that sign a schemathesis request in as the role."""
    if role == "anonymous":
        return {}
    if role in ("admin", "coordinator"):
        signed = sign_in(client, session_factory, role=role)
        return {
            "Cookie": f"accessgap_session={signed.cookie}",
            "X-CSRF-Token": signed.csrf,
        }
    with session_factory() as session, session.begin():
        user_id = make_user(session, role=role).id
    from surveys.policy import ROLE_PERMISSIONS, Role

    scopes = sorted(TOKEN_SCOPES & ROLE_PERMISSIONS[Role(role)])
    return {"Authorization": f"Bearer {issue_token(session_factory, user_id, scopes)}"}


def known_values(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    """Path parameters that name real objects, so cases reach past the 404."""
    with session_factory() as session, session.begin():
        centre = make_centre(session, name="Schemathesis centre", country="IT", city="Milano")
        return {"centre_id": centre.public_id}


def strategy_for(operation: Any, mode: GenerationMode, known: dict[str, Any]) -> Any:
    plain = operation.as_strategy(generation_mode=mode)
    names = {p.name for p in operation.path_parameters}
    fixed = {k: v for k, v in known.items() if k in names}
    if not fixed or mode is GenerationMode.NEGATIVE:
        return plain
    return st.one_of(plain, operation.as_strategy(generation_mode=mode, path_parameters=fixed))


def run_operation(
    operation: Any,
    mode: GenerationMode,
    roles: list[tuple[str, int, dict[str, str]]],
    known: dict[str, Any],
    counter: Callable[[], None],
) -> str | None:
    """Run one operation in one mode, each case as every role whose share it falls in; the
    failure text, or None. ``roles`` are (role, examples, headers), most examples first."""
    sent = 0

    @settings(
        max_examples=roles[0][1],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy_for(operation, mode, known))
    def run(case: Any) -> None:
        nonlocal sent
        number, sent = sent, sent + 1
        for role, examples, headers in roles:
            if number >= examples:
                continue
            counter()
            try:
                case.call_and_validate(headers=headers, checks=CHECKS)
            except Exception as exc:
                exc.add_note(f"as {role}")
                raise

    try:
        run()
    except Unsatisfiable:
        return None  # nothing violates the schema of an operation without constrained inputs
    except Exception as exc:  # report every failure of every operation together
        notes = " ".join(getattr(exc, "__notes__", []))
        return f"{operation.label} [{mode.value}] {notes}: {str(exc)[:2000]}"
    return None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_the_api_answers_every_generated_request_within_its_schema(
    client: TestClient, session_factory: sessionmaker[Session], mode: GenerationMode
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    # No source analysis: literal values from the code would only slow generation down here.
    config = schemathesis.Config.from_dict({"analysis": {"constants": {"enabled": False}}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    known = known_values(session_factory)
    cases = 0

    def count() -> None:
        nonlocal cases
        cases += 1

    roles = []
    for role, examples in sorted(EXAMPLES.items(), key=lambda item: -item[1]):
        if mode is GenerationMode.NEGATIVE and role not in NEGATIVE_ROLES:
            continue
        roles.append((role, examples, credentials(client, session_factory, role)))
        client.cookies.clear()
    failures: list[str] = []
    started = time.monotonic()
    for operation in operations:
        failure = run_operation(operation, mode, roles, known, count)
        if failure and f"{operation.label} [{mode.value}]" not in KNOWN_FAILURES:
            failures.append(failure)
    elapsed = time.monotonic() - started
    print(
        f"schemathesis {mode.value}: {cases} cases over {len(operations)} operations in {elapsed:.1f} s"
    )
    assert failures == []
    assert cases >= MIN_CASES[mode]
