"""Revision 0007 on a populated database: the NUTS versions held become rows (the last imported
active), regional figures name their version, Eurostat's EL/UK country figures move to GR/GB,
centres with a region were placed inside it; and it goes down again."""

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
def database_at_0006(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'nuts.sqlite3'}"
        migrate.upgrade(url, "0006")
        yield url
        return
    with fresh_postgres_database("accessgap_nuts") as url:
        migrate.upgrade(url, "0006")
        yield url


def test_0007_derives_versions_and_mends_country_codes(database_at_0006: str) -> None:
    engine = make_engine(database_at_0006)
    with engine.begin() as connection:
        run = connection.execute
        for iso2, iso3 in (("GR", "GRC"), ("GB", "GBR"), ("PT", "PRT")):
            run(
                sa.text(
                    "INSERT INTO country (iso2, iso3, name, eu_member, eea_member, eu_candidate) "
                    "VALUES (:iso2, :iso3, :iso2, false, false, false)"
                ),
                {"iso2": iso2, "iso3": iso3},
            )
        portugal = run(sa.text("SELECT id FROM country WHERE iso2 = 'PT'")).scalar_one()
        for code, version in (("PT17", "2021"), ("PT11", "2021"), ("PT1A", "2024")):
            run(
                sa.text(
                    "INSERT INTO region (code, nuts_version, level, name, country_id) "
                    "VALUES (:code, :version, 2, :code, :country)"
                ),
                {"code": code, "version": version, "country": portugal},
            )
        run(
            sa.text(
                "INSERT INTO region (code, nuts_version, level, name, country_id) "
                "VALUES ('PT', '2021', 0, 'Portugal', :country)"
            ),
            {"country": portugal},
        )
        pt17 = run(sa.text("SELECT id FROM region WHERE code = 'PT17'")).scalar_one()
        for name, region in (("Lisboa", pt17), ("Nowhere", None)):
            run(
                sa.text(
                    "INSERT INTO centre (public_id, name, country_id, region_id, centre_type, "
                    "accreditations, active, is_synthetic, created_at, updated_at, version) "
                    "VALUES (:name, :name, :country, :region, 'other', '[]', true, false, "
                    ":now, :now, 1)"
                ),
                {"name": name, "country": portugal, "region": region, "now": NOW},
            )
        for code, level, source in (
            ("EL", "country", "Eurostat"),  # matched nothing before: becomes GR
            ("UK", "country", "Eurostat"),  # GB of the same year and source exists: stays
            ("GB", "country", "Eurostat"),
            ("PT17", "nuts2", "Eurostat"),
        ):
            run(
                sa.text(
                    "INSERT INTO population (area_code, area_level, year, value, source) "
                    "VALUES (:code, :level, 2023, 1000, :source)"
                ),
                {"code": code, "level": level, "source": source},
            )
    migrate.upgrade(database_at_0006)
    migrate.check(database_at_0006)
    with engine.connect() as connection:
        versions = connection.execute(
            sa.text(
                "SELECT level, nuts_version, active, regions, imported_at FROM boundary_version "
                "ORDER BY level, nuts_version"
            )
        ).all()
        assert [tuple(v) for v in versions] == [
            (0, "2021", True, 1, None),
            (2, "2021", False, 2, None),
            (2, "2024", True, 1, None),  # imported last: the active one
        ]
        figures = dict(
            connection.execute(sa.text("SELECT area_code, nuts_version FROM population")).all()
        )
        assert figures == {"GR": None, "UK": None, "GB": None, "PT17": "2024"}
        placements = dict(
            connection.execute(sa.text("SELECT name, region_placement FROM centre")).all()
        )
        assert placements == {"Lisboa": "inside", "Nowhere": None}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        # One active version per level, held by the database.
        connection.execute(
            sa.text("UPDATE boundary_version SET active = true WHERE nuts_version = '2021'")
        )
    migrate.downgrade(database_at_0006, "0006")
    with engine.connect() as connection:
        assert "boundary_version" not in sa.inspect(connection).get_table_names()
        columns = {c["name"] for c in sa.inspect(connection).get_columns("centre")}
        assert "region_placement" not in columns
    engine.dispose()
