"""NUTS versions: one active version per level, figures that name their version, centres that
say how they got their region.

- ``boundary_version`` lists the NUTS versions the registry holds per level; a partial unique
  index allows one active version per level. Existing boundaries get a row each (when they
  were imported is not known: ``imported_at`` stays empty); the version imported last (the
  highest region id) becomes the active one of its level.
- ``population.nuts_version``: the NUTS version a regional figure's code belongs to. Existing
  regional figures are given the active version of their level. Country figures stored under
  Eurostat's codes (``EL``, ``UK``), which matched no country, move to the registry's codes
  (``GR``, ``GB``) unless a figure of that code, year and source exists already.
- ``centre.region_placement`` (``inside`` or ``proximity``) and ``centre.region_distance_km``:
  a centre outside every polygon may be placed in the nearest region within reach, and says so.
  Centres with a region today were placed inside it.

Revision ID: 0007
Revises: 0006
Created: 2026-12-07 02:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_CLAUSE = "active"
PLACEMENT_CLAUSE = "region_placement IS NULL OR region_placement IN ('inside', 'proximity')"
EUROSTAT_TO_ISO2 = {"EL": "GR", "UK": "GB"}

region = sa.table(
    "region",
    sa.column("id", sa.Integer),
    sa.column("level", sa.Integer),
    sa.column("nuts_version", sa.String),
)
population = sa.table(
    "population",
    sa.column("id", sa.Integer),
    sa.column("area_code", sa.String),
    sa.column("area_level", sa.String),
    sa.column("year", sa.Integer),
    sa.column("source", sa.String),
    sa.column("nuts_version", sa.String),
)
centre = sa.table(
    "centre",
    sa.column("region_id", sa.Integer),
    sa.column("region_placement", sa.String),
)


def upgrade() -> None:
    versions = op.create_table(
        "boundary_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("nuts_version", sa.String(length=4), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("regions", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("level BETWEEN 0 AND 3", name=op.f("ck_boundary_version_level_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundary_version")),
        sa.UniqueConstraint(
            "level", "nuts_version", name=op.f("uq_boundary_version_level_nuts_version")
        ),
    )
    op.create_index(
        "uq_boundary_version_one_active",
        "boundary_version",
        ["level"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_CLAUSE),
        postgresql_where=sa.text(ACTIVE_CLAUSE),
    )
    with op.batch_alter_table("population") as batch:
        batch.add_column(sa.Column("nuts_version", sa.String(length=4), nullable=True))
    with op.batch_alter_table("centre") as batch:
        batch.add_column(sa.Column("region_placement", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("region_distance_km", sa.Float(), nullable=True))
        batch.create_check_constraint(op.f("ck_centre_region_placement"), PLACEMENT_CLAUSE)

    bind = op.get_bind()
    active = _record_versions(bind, versions)
    for level, version in active.items():
        bind.execute(
            population.update()
            .where(population.c.area_level == f"nuts{level}")
            .values(nuts_version=version)
        )
    _move_eurostat_country_codes(bind)
    bind.execute(
        centre.update().where(centre.c.region_id.is_not(None)).values(region_placement="inside")
    )


def _record_versions(bind: sa.Connection, versions: sa.Table) -> dict[int, str]:
    """A row per (level, version) of the regions held; the one imported last is active."""
    counts = bind.execute(
        sa.select(
            region.c.level,
            region.c.nuts_version,
            sa.func.count(region.c.id),
            sa.func.max(region.c.id),
        ).group_by(region.c.level, region.c.nuts_version)
    ).all()
    newest: dict[int, tuple[int, str]] = {}
    for level, version, _, last_id in counts:
        if level not in newest or last_id > newest[level][0]:
            newest[level] = (last_id, version)
    for level, version, count, _ in counts:
        bind.execute(
            versions.insert().values(
                level=level,
                nuts_version=version,
                active=newest[level][1] == version,
                regions=count,
                source=None,
                imported_at=None,
            )
        )
    return {level: version for level, (_, version) in newest.items()}


def _move_eurostat_country_codes(bind: sa.Connection) -> None:
    for eurostat, iso2 in EUROSTAT_TO_ISO2.items():
        rows = bind.execute(
            sa.select(population.c.id, population.c.year, population.c.source).where(
                population.c.area_level == "country", population.c.area_code == eurostat
            )
        ).all()
        for row_id, year, source in rows:
            taken = bind.execute(
                sa.select(population.c.id).where(
                    population.c.area_code == iso2,
                    population.c.year == year,
                    population.c.source == source,
                )
            ).first()
            if taken is None:
                bind.execute(
                    population.update().where(population.c.id == row_id).values(area_code=iso2)
                )


def downgrade() -> None:
    with op.batch_alter_table("centre") as batch:
        batch.drop_constraint(op.f("ck_centre_region_placement"), type_="check")
        batch.drop_column("region_distance_km")
        batch.drop_column("region_placement")
    with op.batch_alter_table("population") as batch:
        batch.drop_column("nuts_version")
    op.drop_index("uq_boundary_version_one_active", table_name="boundary_version")
    op.drop_table("boundary_version")
