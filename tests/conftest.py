"""Shared fixtures: every database test runs on SQLite and on PostgreSQL, inside a transaction
that is rolled back, on a schema built by ``alembic upgrade head``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.settings import Environment, Settings
from surveys import migrate
from surveys.db import make_engine, transaction
from surveys.registry.countries import seed_countries
from tests.databases import IN_CI, fresh_postgres_database

DATABASES = ("sqlite", "postgresql")
pytest_plugins = ["tests.accounts_fixtures"]


def _prepare(url: str) -> Engine:
    migrate.upgrade(url)
    engine = make_engine(url)
    with transaction(sessionmaker(bind=engine)) as session:
        seed_countries(session)
    return engine


@pytest.fixture(scope="session", params=DATABASES)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a migrated, seeded test database: one SQLite file and one PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        url = f"sqlite:///{path}"
        _prepare(url).dispose()
        yield url
        return
    with fresh_postgres_database() as url:
        _prepare(url).dispose()
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that all live inside one outer transaction, rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    yield sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    outer.rollback()
    connection.close()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="test-secret-" + "x" * 32,
        pseudonym_secret="test-pseudonym-" + "y" * 32,
    )


@pytest.fixture
def client(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app against the test database; its transactions are savepoints inside the test's."""
    app = create_app(settings)
    app.state.session_factory = session_factory
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """In CI a skipped test means an untested database or browser: say so loudly."""
    skipped = terminalreporter.stats.get("skipped", [])
    if IN_CI and skipped:
        terminalreporter.write_line(
            f"CI=true: {len(skipped)} test(s) were skipped; every test must run in CI.", red=True
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if IN_CI and reporter is not None and reporter.stats.get("skipped"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
