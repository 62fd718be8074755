"""Shared fixtures: every database test runs on SQLite and on PostgreSQL, inside a transaction
that is rolled back, on a schema built by ``alembic upgrade head``.

The two databases are built once per test process (once per xdist worker) on first use and
kept until the session ends, whatever order the tests come in: under xdist a worker gets tests
of both databases interleaved, and a plain parametrized session fixture would be torn down and
built again at every switch. How the suite is spread over the workers: see the end of the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
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
from tests.forks import close_app_forks

DATABASES = ("sqlite", "postgresql")
pytest_plugins = ["tests.accounts_fixtures"]


class SessionDatabases:
    """The migrated, seeded test databases of this process, each built when first asked for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._urls: dict[str, str] = {}
        self._engines: dict[str, Engine] = {}
        self._dropped = ExitStack()

    def url(self, kind: str) -> str:
        if kind not in self._urls:
            if kind == "sqlite":
                url = f"sqlite:///{self.folder / 'test.sqlite3'}"
            else:
                url = self._dropped.enter_context(fresh_postgres_database())
            migrate.upgrade(url)
            with transaction(sessionmaker(bind=self.engine(url))) as session:
                seed_countries(session)
            self._urls[kind] = url
        return self._urls[kind]

    def engine(self, url: str) -> Engine:
        if url not in self._engines:
            self._engines[url] = make_engine(url)
        return self._engines[url]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._dropped.close()  # the PostgreSQL database is dropped


@pytest.fixture(scope="session")
def test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionDatabases]:
    databases = SessionDatabases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.close()


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request: pytest.FixtureRequest, test_databases: SessionDatabases) -> str:
    """The URL of a migrated, seeded test database: one SQLite file and one PostgreSQL database."""
    return test_databases.url(request.param)


@pytest.fixture(scope="session")
def engine(database_url: str, test_databases: SessionDatabases) -> Engine:
    return test_databases.engine(database_url)


@contextmanager
def rolled_back(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that all live inside one outer transaction, rolled back at the end."""
    connection = engine.connect()
    outer = connection.begin()
    yield sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    outer.rollback()
    connection.close()


def settings_for(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        data_dir=data_dir,
        secret_key="test-secret-" + "x" * 32,
        pseudonym_secret="test-pseudonym-" + "y" * 32,
    )


@contextmanager
def app_client(settings: Settings, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app against the test database; its transactions are savepoints inside the test's."""
    app = create_app(settings)
    app.state.session_factory = factory
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that all live inside one outer transaction, rolled back after the test."""
    with rolled_back(engine) as factory:
        yield factory


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path)


@pytest.fixture
def client(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app against the test database; its transactions are savepoints inside the test's."""
    with app_client(settings, session_factory) as client:
        yield client


@pytest.fixture
def clients_on_both_databases(
    test_databases: SessionDatabases, tmp_path: Path
) -> Iterator[dict[str, tuple[TestClient, sessionmaker[Session]]]]:
    """For a test that sends the same requests to both databases (instead of running once per
    database): the ``client`` and ``session_factory`` of each, by name."""
    with ExitStack() as stack:
        made = {}
        for kind in DATABASES:
            url = test_databases.url(kind)
            factory = stack.enter_context(rolled_back(test_databases.engine(url)))
            (tmp_path / kind).mkdir()
            settings = settings_for(url, tmp_path / kind)
            made[kind] = (stack.enter_context(app_client(settings, factory)), factory)
        yield made


# --- figures: what the load and fault tests measured, shown after the run ----------------------

FIGURE = "reliability figure"  # the user property a figure line travels in


@pytest.fixture
def report_figures(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Keep a line of measured figures for the run's summary.

    The tests assert behaviour, never wall-clock time; the timings they measure (p95 against the
    RELIABILITY.md targets) are still worth reading, so they are printed at the end of the run
    (captured ``print`` output would only show for a failing test). The lines travel in the
    test's report (``user_properties``), so they reach the summary from an xdist worker too.
    """

    def report(line: str) -> None:
        request.node.user_properties.append((FIGURE, f"{request.node.name}: {line}"))

    return report


def _figures(terminalreporter: pytest.TerminalReporter) -> list[str]:
    lines = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            lines.extend(str(v) for k, v in getattr(report, "user_properties", ()) if k == FIGURE)
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The reliability figures; and in CI, a skipped test (an untested database or browser)
    said loudly."""
    figures = _figures(terminalreporter)
    if figures:
        terminalreporter.section("reliability figures (targets are reported, not asserted)")
        for line in figures:
            terminalreporter.write_line(line)
    skipped = terminalreporter.stats.get("skipped", [])
    if IN_CI and skipped:
        terminalreporter.write_line(
            f"CI=true: {len(skipped)} test(s) were skipped; every test must run in CI.", red=True
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    close_app_forks()  # this process's fork server and the servers it started, if any
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if IN_CI and reporter is not None and reporter.stats.get("skipped"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- spreading the suite over xdist workers (``make test`` runs ``pytest -n 2``) ---------------
#
# ``--dist loadgroup`` (pyproject.toml) hands out tests one by one, except tests that carry the
# same ``xdist_group`` mark: those go to one worker together. A test module whose tests share a
# module-scoped fixture (a live server with its database, a browser, a prepared database) is
# made one group here, so the fixture is built once, on one worker, not once per worker. And the
# tests known to take longest start first, so that the two workers finish together instead of
# one of them starting a two-minute test at the end.

SLOWEST_FIRST = (
    # The order in which the long tests and groups start (file paths or node id prefixes).
    "tests/api/test_schemathesis.py",
    "tests/reliability/test_crash.py",
    "tests/reliability/test_load.py",
    "tests/web/test_journeys.py",
    "tests/reliability/test_backup.py",
    "tests/web/test_accessibility.py",
    "tests/api/test_route_matrix.py",
    "tests/reliability/",
    "tests/web/test_browser.py",
    "tests/web/test_map_browser.py",
    "tests/web/test_xss.py",
)
SHARED_SCOPES = ("package", "module", "class")


def _shared_fixture_group(item: pytest.Item) -> str | None:
    """The group of a test that uses a module- or class-scoped fixture of its own file: the
    module (or class), and the parameter of that fixture if it has one."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    module = item.nodeid.split("::")[0]
    scope_of_group = None
    params = []
    for name in item.fixturenames:
        definitions = info.name2fixturedefs.get(name)
        if not definitions:
            continue
        definition = definitions[-1]
        if definition.scope not in SHARED_SCOPES or definition.baseid.split("::")[0] != module:
            continue
        if definition.scope == "class" and scope_of_group is None:
            scope_of_group = item.nodeid.rsplit("::", 1)[0]
        else:
            scope_of_group = module
        callspec = getattr(item, "callspec", None)
        if callspec is not None and name in callspec.params:
            params.append(f"{name}={callspec.params[name]}")
    if scope_of_group is None:
        return None
    # Short: xdist appends the group to the test's node id ("...::test_x[sqlite]@web/test_y.py").
    return scope_of_group.removeprefix("tests/") + "".join(f"[{p}]" for p in sorted(params))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the groups before xdist reads the marks (its own hook runs after this one)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            group = _shared_fixture_group(item)
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))


def _start_rank(item: pytest.Item) -> int:
    for rank, prefix in enumerate(SLOWEST_FIRST):
        if item.nodeid.startswith(prefix):
            return rank
    return len(SLOWEST_FIRST)


class _SlowestFirst:
    """Sorts the collected tests after pytest has grouped them by fixture parameter."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=_start_rank)  # stable: the others keep pytest's order


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_SlowestFirst(), "accessgap-slowest-first")
