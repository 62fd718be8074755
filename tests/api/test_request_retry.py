"""Whole-request retries (api/retry_middleware.py, RELIABILITY.md scenario 25), driven by errors
the database driver really raises (psycopg's SerializationFailure and DeadlockDetected)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import psycopg.errors
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError

from api.app import create_app
from api.retry_middleware import RETRY_HEADER
from api.settings import Environment, Settings
from surveys.responses.errors import RaceLostInSnapshot


class Flaky:
    """A route that fails ``failures`` times with ``error``, then answers what it was sent."""

    def __init__(self) -> None:
        self.failures = 0
        self.error: Exception | None = None
        self.bodies: list[bytes] = []

    async def __call__(self, request: Request) -> dict[str, object]:
        self.bodies.append(await request.body())
        if self.failures and self.error is not None:
            self.failures -= 1
            raise self.error
        return {"attempts": len(self.bodies)}


def _aborted(error: psycopg.Error) -> OperationalError:
    return OperationalError("UPDATE response SET ...", {}, error)


@pytest.fixture
def flaky() -> Flaky:
    return Flaky()


@pytest.fixture
def app(tmp_path: Path, flaky: Flaky) -> FastAPI:
    app = create_app(
        Settings(
            environment=Environment.TEST,
            database_url=f"sqlite:///{tmp_path / 'retry.sqlite3'}",
            data_dir=tmp_path,
            secret_key="test-secret-" + "x" * 32,
            pseudonym_secret="test-pseudonym-" + "y" * 32,
        )
    )
    app.add_api_route("/api/test/flaky", flaky, methods=["POST"])
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_serialization_failure_runs_the_request_again_with_the_same_body(
    client: TestClient, flaky: Flaky, caplog: pytest.LogCaptureFixture
) -> None:
    flaky.failures, flaky.error = 2, _aborted(psycopg.errors.SerializationFailure("conflict"))
    with caplog.at_level(logging.INFO, logger="accessgap.db.retry"):
        answer = client.post("/api/test/flaky", json={"centre": "Émile"})
    assert answer.status_code == 200
    assert answer.json() == {"attempts": 3}
    assert flaky.bodies == ['{"centre":"Émile"}'.encode()] * 3
    assert RETRY_HEADER not in answer.headers
    retries = [r for r in caplog.records if r.name == "accessgap.db.retry"]
    assert [(r.levelno, r.__dict__["sqlstate"], r.__dict__["attempt"]) for r in retries] == [
        (logging.INFO, "40001", 1),
        (logging.INFO, "40001", 2),
    ]


def test_a_deadlock_is_retried_too(client: TestClient, flaky: Flaky) -> None:
    flaky.failures, flaky.error = 1, _aborted(psycopg.errors.DeadlockDetected("deadlock"))
    assert client.post("/api/test/flaky", json={}).json() == {"attempts": 2}


def test_after_three_retries_the_client_gets_a_clean_503(client: TestClient, flaky: Flaky) -> None:
    flaky.failures, flaky.error = 99, _aborted(psycopg.errors.SerializationFailure("conflict"))
    answer = client.post("/api/test/flaky", json={})
    assert len(flaky.bodies) == 4
    assert answer.status_code == 503
    assert answer.headers["retry-after"]
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "database_busy"
    assert RETRY_HEADER not in answer.headers


def test_a_race_lost_in_an_old_snapshot_is_retried_then_a_clean_409(
    client: TestClient, flaky: Flaky
) -> None:
    flaky.failures, flaky.error = 99, RaceLostInSnapshot("being processed")
    answer = client.post("/api/test/flaky", json={})
    assert len(flaky.bodies) == 4
    assert answer.status_code == 409
    assert answer.json()["code"] == "request_in_progress"


def test_an_html_page_gets_the_503_page_after_the_last_attempt(
    client: TestClient, flaky: Flaky, app: FastAPI
) -> None:
    app.add_api_route("/test/flaky-page", flaky, methods=["POST"])
    flaky.failures, flaky.error = 99, _aborted(psycopg.errors.SerializationFailure("conflict"))
    answer = client.post("/test/flaky-page", data={"note": "kept"})
    assert len(flaky.bodies) == 4
    assert answer.status_code == 503
    assert answer.headers["retry-after"]
    assert answer.headers["content-type"].startswith("text/html")
    assert RETRY_HEADER not in answer.headers


def test_other_errors_are_not_retried(client: TestClient, flaky: Flaky) -> None:
    flaky.failures = 1
    flaky.error = IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate"))
    answer = client.post("/api/test/flaky", json={})
    assert len(flaky.bodies) == 1
    assert answer.status_code == 500
