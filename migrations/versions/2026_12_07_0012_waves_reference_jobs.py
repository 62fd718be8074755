"""Official statistics beside the survey, and background jobs.

- ``reference_figure``: official series (area, year, indicator, value, source, flag) that
  ``accessgap reference import`` loads, compared with the survey's indicators.
- ``job`` and ``job_result``: the record of every background job (what, who, progress,
  outcome) and the file it produced, read by the jobs page.
- On PostgreSQL, the schema of the procrastinate queue (its tables, functions and triggers,
  from the pinned procrastinate release), so that workers on several processes or machines
  share one queue (``docs/jobs.md``). SQLite needs none: its jobs run in the app process.

Revision ID: 0012
Revises: 0009
Created: 2026-12-07 04:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROCRASTINATE_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)


def upgrade() -> None:
    op.create_table(
        "reference_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=10), nullable=False),
        sa.Column("area_level", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("flag", sa.String(length=100), nullable=False),
        sa.Column("nuts_version", sa.String(length=4), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_figure")),
        sa.UniqueConstraint(
            "area_code",
            "year",
            "indicator",
            "source",
            name=op.f("uq_reference_figure_area_code_year_indicator_source"),
        ),
    )
    op.create_index(
        op.f("ix_reference_figure_area_code"), "reference_figure", ["area_code"], unique=False
    )
    op.create_index(
        op.f("ix_reference_figure_indicator"), "reference_figure", ["indicator"], unique=False
    )
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("progress_note", sa.String(length=300), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')",
            name=op.f("ck_job_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_job_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index(op.f("ix_job_status"), "job", ["status"], unique=False)
    op.create_index(op.f("ix_job_user_id"), "job", ["user_id"], unique=False)
    op.create_table(
        "job_result",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_job_result_job_id_job")),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_result")),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        # The queue's own schema, as the pinned procrastinate release ships it; its '%' signs
        # are doubled because the driver reads them as placeholders (as procrastinate does).
        bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in PROCRASTINATE_TABLES:
            op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        op.execute(
            "DO $$ DECLARE f record; BEGIN "
            "FOR f IN SELECT oid::regprocedure AS sig FROM pg_proc "
            "WHERE proname LIKE 'procrastinate%' LOOP "
            "EXECUTE 'DROP FUNCTION IF EXISTS ' || f.sig || ' CASCADE'; END LOOP; END $$"
        )
        op.execute(
            "DO $$ DECLARE t record; BEGIN "
            "FOR t IN SELECT typname FROM pg_type WHERE typname LIKE 'procrastinate%' "
            "AND typtype IN ('e', 'c') LOOP "
            "EXECUTE 'DROP TYPE IF EXISTS ' || t.typname || ' CASCADE'; END LOOP; END $$"
        )
    op.drop_table("job_result")
    op.drop_index(op.f("ix_job_user_id"), table_name="job")
    op.drop_index(op.f("ix_job_status"), table_name="job")
    op.drop_table("job")
    op.drop_index(op.f("ix_reference_figure_indicator"), table_name="reference_figure")
    op.drop_index(op.f("ix_reference_figure_area_code"), table_name="reference_figure")
    op.drop_table("reference_figure")
