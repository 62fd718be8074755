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


def test_upgrade_downgrade_upgrade_without_drift(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert tables(empty_database) == set(Base.metadata.tables)
    migrate.check(empty_database)

    migrate.downgrade(empty_database, "base")
    assert tables(empty_database) == set()

    migrate.upgrade(empty_database)
    assert tables(empty_database) == set(Base.metadata.tables)
    migrate.check(empty_database)


def test_revision_files_are_dated_and_free_of_autogenerate_boilerplate() -> None:
    versions = Path(migrate.PROJECT_ROOT / "migrations" / "versions")
    for path in versions.glob("*.py"):
        assert path.name[:11].replace("_", "").isdigit(), path.name
        source = path.read_text()
        assert "please adjust" not in source
        assert "auto generated" not in source
