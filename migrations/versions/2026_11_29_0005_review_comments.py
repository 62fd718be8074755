"""Review comments on responses: what a reviewer noted, with the review state they set.

Revision ID: 0005
Revises: 0004
Created: 2026-11-29 21:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "response_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("review_state", sa.String(length=20), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name=op.f("fk_response_comment_response_id_response"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_comment")),
    )
    op.create_index(
        op.f("ix_response_comment_response_id"),
        "response_comment",
        ["response_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_response_comment_response_id"), table_name="response_comment")
    op.drop_table("response_comment")
