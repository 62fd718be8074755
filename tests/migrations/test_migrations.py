"""Migrations: upgrade, downgrade to base and upgrade again, on both databases, with no drift."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from surveys import migrate
from surveys.db import make_engine
from surveys.models import Base
from tests.databases import fresh_postgres_database

QUEUE_TABLES = {
    "procrastinate_events",
    "procrastinate_jobs",
    "procrastinate_periodic_defers",
    "procrastinate_workers",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    with fresh_postgres_database("accessgap_migrations") as url:
        yield url


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def expected_tables(url: str) -> set[str]:
    """Our models' tables, and on PostgreSQL the job queue's own (revision 0012)."""
    queue = QUEUE_TABLES if url.startswith("postgresql") else set()
    return set(Base.metadata.tables) | queue


def test_upgrade_downgrade_upgrade_without_drift(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert tables(empty_database) == expected_tables(empty_database)
    migrate.check(empty_database)

    migrate.downgrade(empty_database, "base")
    assert tables(empty_database) == set()

    migrate.upgrade(empty_database)
    assert tables(empty_database) == expected_tables(empty_database)
    migrate.check(empty_database)


def test_revision_files_are_dated_and_free_of_autogenerate_boilerplate() -> None:
    versions = Path(migrate.PROJECT_ROOT / "migrations" / "versions")
    for path in versions.glob("*.py"):
        assert path.name[:11].replace("_", "").isdigit(), path.name
        source = path.read_text()
        assert "please adjust" not in source
        assert "auto generated" not in source
