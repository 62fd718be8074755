"""Schemathesis against the app's own OpenAPI schema (RELIABILITY.md scenarios 28 and 29).

Every operation, positive (schema-conforming) and negative (schema-violating) inputs, as every
role with its own credentials, with a fixed seed (derandomized), on SQLite and PostgreSQL. The
checks: no server error, responses conform to their declared schema, status codes and content
types are the documented ones. ``KNOWN_FAILURES`` must stay empty.

The cases run in-process through the ASGI transport, inside rolled-back transactions.

Each case is generated once and sent to the app on SQLite and to the app on PostgreSQL, as
every role whose share of examples it falls in: the admin's 16 per operation and mode, the
first 6 of those as a coordinator, the first 4 as each other role. That is exactly the set of
requests the test sent when it generated cases per database and per role: with a fixed seed
the generator gave each of those runs the same cases (the one input that differed, the id of
the known centre, is now the same in both databases), so generating once sends the same
requests for a third of the generation time. The two modes are two tests, which xdist can run
on different workers. Per database and mode: at least the MIN_CASES requests below, which
makes more than 100 per operation and well over 1,000 in all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
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
# Requests per database and mode, at least (a lower count means operations went missing).
MIN_CASES = {GenerationMode.POSITIVE: 1500, GenerationMode.NEGATIVE: 800}


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


def known_values(
    factories: dict[str, sessionmaker[Session]],
    public_id: str = "5c4e3a7a-0d1e-4c2b-9f10-000000000028",
) -> dict[str, Any]:
    """Path parameters that name real objects, so cases reach past the 404: a centre with the
    same public id in every database, so one generated case means the same on each."""
    for factory in factories.values():
        with factory() as session, session.begin():
            centre = make_centre(session, name="Schemathesis centre", country="IT", city="Milano")
            centre.public_id = public_id
    return {"centre_id": public_id}


def strategy_for(operation: Any, mode: GenerationMode, known: dict[str, Any]) -> Any:
    plain = operation.as_strategy(generation_mode=mode)
    names = {p.name for p in operation.path_parameters}
    fixed = {k: v for k, v in known.items() if k in names}
    if not fixed or mode is GenerationMode.NEGATIVE:
        return plain
    return st.one_of(plain, operation.as_strategy(generation_mode=mode, path_parameters=fixed))


@dataclass(frozen=True)
class Target:
    """Where a case is sent and as whom: an app (one per database), a role, its headers, and
    how many of the generated cases it is sent (the first ones)."""

    database: str
    app: FastAPI
    role: str
    examples: int
    headers: dict[str, str]


def run_operation(
    operation: Any,
    mode: GenerationMode,
    targets: list[Target],
    known: dict[str, Any],
    counter: Callable[[str], None],
) -> str | None:
    """Run one operation in one mode, each case sent to every target whose share it falls in;
    the failure text, or None."""
    sent = 0

    @settings(
        max_examples=max(target.examples for target in targets),
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
        for target in targets:
            if number >= target.examples:
                continue
            counter(target.database)
            try:
                case.call_and_validate(headers=target.headers, checks=CHECKS, app=target.app)
            except Exception as exc:
                exc.add_note(f"on {target.database} as {target.role}")
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
    clients_on_both_databases: dict[str, tuple[TestClient, sessionmaker[Session]]],
    mode: GenerationMode,
) -> None:
    apps: dict[str, FastAPI] = {
        database: client.app  # type: ignore[misc]
        for database, (client, _) in clients_on_both_databases.items()
    }
    # The schema of one app (the other serves the same one); no source analysis: literal
    # values from the code would only slow generation down here.
    config = schemathesis.Config.from_dict({"analysis": {"constants": {"enabled": False}}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", apps["sqlite"], config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    known = known_values({db: factory for db, (_, factory) in clients_on_both_databases.items()})
    cases = dict.fromkeys(apps, 0)

    def count(database: str) -> None:
        cases[database] += 1

    targets = []
    for role, examples in EXAMPLES.items():
        if mode is GenerationMode.NEGATIVE and role not in NEGATIVE_ROLES:
            continue
        for database, (client, factory) in clients_on_both_databases.items():
            headers = credentials(client, factory, role)
            client.cookies.clear()
            targets.append(Target(database, apps[database], role, examples, headers))
    failures: list[str] = []
    started = time.monotonic()
    for operation in operations:
        failure = run_operation(operation, mode, targets, known, count)
        if failure and f"{operation.label} [{mode.value}]" not in KNOWN_FAILURES:
            failures.append(failure)
    elapsed = time.monotonic() - started
    print(
        f"schemathesis {mode.value}: {cases} cases over {len(operations)} operations "
        f"in {elapsed:.1f} s"
    )
    assert failures == []
    assert all(count >= MIN_CASES[mode] for count in cases.values()), cases
