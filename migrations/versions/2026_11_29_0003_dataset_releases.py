"""Dataset releases: a campaign's approved data frozen as immutable, checksummed rows.

A release row is written first with an empty ``content_sha256``, its records are inserted, and
setting the checksum seals it. Triggers on both databases then refuse any UPDATE or DELETE of a
sealed release, any UPDATE or DELETE of a record, and any new record in a sealed release.

Revision ID: 0003
Revises: 0002
Created: 2026-11-29 19:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGE = "dataset releases are immutable once sealed"


def upgrade() -> None:
    op.create_table(
        "dataset_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_dataset_release_campaign_id_campaign")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_release")),
        sa.UniqueConstraint(
            "campaign_id", "number", name=op.f("uq_dataset_release_campaign_id_number")
        ),
    )
    op.create_index(
        op.f("ix_dataset_release_campaign_id"), "dataset_release", ["campaign_id"], unique=False
    )
    op.create_table(
        "dataset_release_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("questionnaire_version_id", sa.Integer(), nullable=False),
        sa.Column("response_key", sa.String(length=36), nullable=False),
        sa.Column("centre", sa.String(length=36), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("answers_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["dataset_release.id"],
            name=op.f("fk_dataset_release_record_release_id_dataset_release"),
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_version_id"],
            ["questionnaire_version.id"],
            name=op.f("fk_dataset_release_record_questionnaire_version_id_questionnaire_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_release_record")),
        sa.UniqueConstraint(
            "release_id", "ordinal", name=op.f("uq_dataset_release_record_release_id_ordinal")
        ),
    )
    op.create_index(
        op.f("ix_dataset_release_record_release_id"),
        "dataset_release_record",
        ["release_id"],
        unique=False,
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index(op.f("ix_dataset_release_record_release_id"), table_name="dataset_release_record")
    op.drop_table("dataset_release_record")
    op.drop_index(op.f("ix_dataset_release_campaign_id"), table_name="dataset_release")
    op.drop_table("dataset_release")


_PG_FUNCTION = """
CREATE FUNCTION dataset_release_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'dataset_release' THEN
        IF TG_OP = 'DELETE' OR OLD.content_sha256 <> '' THEN
            RAISE EXCEPTION 'dataset releases are immutable once sealed'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'dataset releases are immutable once sealed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM dataset_release WHERE id = NEW.release_id AND content_sha256 <> '')
    THEN
        RAISE EXCEPTION 'dataset releases are immutable once sealed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""

_SQLITE_TRIGGERS = {
    "dataset_release_sealed_update": (
        "BEFORE UPDATE ON dataset_release WHEN OLD.content_sha256 <> ''"
    ),
    "dataset_release_no_delete": "BEFORE DELETE ON dataset_release",
    "dataset_release_record_no_update": "BEFORE UPDATE ON dataset_release_record",
    "dataset_release_record_no_delete": "BEFORE DELETE ON dataset_release_record",
    "dataset_release_record_sealed_insert": (
        "BEFORE INSERT ON dataset_release_record WHEN (SELECT content_sha256 FROM "
        "dataset_release WHERE id = NEW.release_id) <> ''"
    ),
}


def _create_triggers() -> None:
    if op.get_context().dialect.name == "sqlite":
        for name, when in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END")
        return
    op.execute(_PG_FUNCTION)
    op.execute(
        "CREATE TRIGGER dataset_release_immutable BEFORE UPDATE OR DELETE ON dataset_release "
        "FOR EACH ROW EXECUTE FUNCTION dataset_release_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER dataset_release_record_immutable "
        "BEFORE INSERT OR UPDATE OR DELETE ON dataset_release_record "
        "FOR EACH ROW EXECUTE FUNCTION dataset_release_refuse_change()"
    )


def _drop_triggers() -> None:
    if op.get_context().dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        return
    op.execute("DROP TRIGGER dataset_release_record_immutable ON dataset_release_record")
    op.execute("DROP TRIGGER dataset_release_immutable ON dataset_release")
    op.execute("DROP FUNCTION dataset_release_refuse_change()")
