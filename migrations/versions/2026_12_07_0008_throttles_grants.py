"""Shared throttles, researcher grants and campaign-scoped tokens.

- ``throttle_counter`` replaces ``login_throttle``: failure counters of every kind (per account,
  per account and address, per address, invitation links per address), keyed by keyed hashes,
  with the group a key is cleared with. The old per-e-mail counters are dropped: at worst a
  lockout under way ends early.
- ``campaign_grant``: which campaigns a researcher may read and export. **On upgrade every
  existing researcher is granted every existing campaign**, so nobody loses what they could do
  before; campaigns created afterwards must be granted explicitly (deny by default).
- ``api_token.campaigns``: the campaigns (slugs) a token may read; empty (NULL) for the tokens
  issued before, which keep reading whatever their user may read.

Revision ID: 0008
Revises: 0007
Created: 2026-12-07 05:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("login_throttle")
    op.create_table(
        "throttle_counter",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("group_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_throttle_counter")),
    )
    op.create_index(
        op.f("ix_throttle_counter_group_hash"), "throttle_counter", ["group_hash"], unique=False
    )

    op.create_table(
        "campaign_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_grant_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_campaign_grant_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_grant")),
        sa.UniqueConstraint(
            "user_id", "campaign_id", name=op.f("uq_campaign_grant_user_id_campaign_id")
        ),
    )
    op.create_index(
        op.f("ix_campaign_grant_campaign_id"), "campaign_grant", ["campaign_id"], unique=False
    )
    op.create_index(op.f("ix_campaign_grant_user_id"), "campaign_grant", ["user_id"], unique=False)
    # Researchers keep what they had: every campaign that exists now.
    op.execute(
        sa.text(
            "INSERT INTO campaign_grant (user_id, campaign_id, granted_at, granted_by) "
            "SELECT u.id, c.id, CURRENT_TIMESTAMP, 'migration:0008' "
            "FROM user_account u CROSS JOIN campaign c WHERE u.role = 'researcher'"
        )
    )

    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("campaigns", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("campaigns")
    op.drop_index(op.f("ix_campaign_grant_user_id"), table_name="campaign_grant")
    op.drop_index(op.f("ix_campaign_grant_campaign_id"), table_name="campaign_grant")
    op.drop_table("campaign_grant")
    op.drop_index(op.f("ix_throttle_counter_group_hash"), table_name="throttle_counter")
    op.drop_table("throttle_counter")
    op.create_table(
        "login_throttle",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_login_throttle")),
    )
