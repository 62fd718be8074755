"""Revision 0008 keeps researchers working: each existing researcher is granted each existing
campaign (and nobody else is); tokens issued before read what their user may read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveys import migrate
from surveys.db import make_engine
from tests.databases import fresh_postgres_database

NOW = "2026-11-29 12:00:00+00:00"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_at_0007(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'grants.sqlite3'}"
        migrate.upgrade(url, "0007")
        yield url
        return
    with fresh_postgres_database("accessgap_grants") as url:
        migrate.upgrade(url, "0007")
        yield url


def test_0008_grants_existing_researchers_every_existing_campaign(database_at_0007: str) -> None:
    engine = make_engine(database_at_0007)
    with engine.begin() as connection:
        for email, role in (("r1@example.org", "researcher"), ("c1@example.org", "coordinator")):
            connection.execute(
                sa.text(
                    "INSERT INTO user_account (email, display_name, password_hash, role, domains,"
                    " countries, active, failed_logins, created_at) VALUES (:email, :email, 'x',"
                    " :role, '[]', '[]', true, 0, :now)"
                ),
                {"email": email, "role": role, "now": NOW},
            )
        for slug in ("wave-a", "wave-b"):
            connection.execute(
                sa.text(
                    "INSERT INTO campaign (slug, name, status, is_synthetic, created_at)"
                    " VALUES (:slug, :slug, 'draft', false, :now)"
                ),
                {"slug": slug, "now": NOW},
            )
        researcher = connection.execute(
            sa.text("SELECT id FROM user_account WHERE role = 'researcher'")
        ).scalar_one()
        connection.execute(
            sa.text(
                "INSERT INTO api_token (user_id, name, token_hash, scopes, created_at, expires_at)"
                " VALUES (:user, 'old', :hash, '[\"export:pseudonymised\"]', :now, :now)"
            ),
            {"user": researcher, "hash": "a" * 64, "now": NOW},
        )
    engine.dispose()

    migrate.upgrade(database_at_0007)
    migrate.check(database_at_0007)
    engine = make_engine(database_at_0007)
    with engine.connect() as connection:
        granted = connection.execute(
            sa.text(
                "SELECT u.email, c.slug, g.granted_by FROM campaign_grant g"
                " JOIN user_account u ON u.id = g.user_id JOIN campaign c ON c.id = g.campaign_id"
                " ORDER BY c.slug"
            )
        ).all()
        token_campaigns = connection.execute(sa.text("SELECT campaigns FROM api_token")).all()
    engine.dispose()
    assert [tuple(row) for row in granted] == [
        ("r1@example.org", "wave-a", "migration:0008"),
        ("r1@example.org", "wave-b", "migration:0008"),
    ]
    assert [row[0] for row in token_campaigns] == [None]

    migrate.downgrade(database_at_0007, "0007")
    migrate.upgrade(database_at_0007)
