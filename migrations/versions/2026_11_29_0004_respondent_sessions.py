"""Respondent sessions: an invitation link exchanged for a server-side session.

Revision ID: 0004
Revises: 0003
Created: 2026-11-29 19:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "respondent_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_respondent_session_invitation_id_invitation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_respondent_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_respondent_session_token_hash")),
    )
    op.create_index(
        op.f("ix_respondent_session_invitation_id"),
        "respondent_session",
        ["invitation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("respondent_session")
