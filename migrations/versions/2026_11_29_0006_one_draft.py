"""One draft per campaign, centre and questionnaire, held by the database.

Two colleagues opening a centre's questionnaire at the same moment could each create a draft
(on PostgreSQL; SQLite's writers queue). A partial unique index now allows one draft per
campaign, centre and questionnaire; ``start_draft`` settles the race in a savepoint and
returns the winner's draft. Drafts already duplicated are kept, not deleted: all but the most
recently saved one of each group are marked withdrawn, so nothing typed is lost.

Revision ID: 0006
Revises: 0005
Created: 2026-11-29 22:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DRAFT_CLAUSE = "status = 'draft'"


def upgrade() -> None:
    op.execute(
        sa.text(
            """
            UPDATE response SET status = 'withdrawn'
            WHERE status = 'draft' AND EXISTS (
                SELECT 1 FROM response AS newer
                WHERE newer.status = 'draft'
                  AND newer.campaign_id = response.campaign_id
                  AND newer.centre_id = response.centre_id
                  AND newer.questionnaire_id = response.questionnaire_id
                  AND (newer.updated_at > response.updated_at
                       OR (newer.updated_at = response.updated_at AND newer.id > response.id))
            )
            """
        )
    )
    op.create_index(
        "uq_response_one_draft",
        "response",
        ["campaign_id", "centre_id", "questionnaire_id"],
        unique=True,
        sqlite_where=sa.text(DRAFT_CLAUSE),
        postgresql_where=sa.text(DRAFT_CLAUSE),
    )


def downgrade() -> None:
    op.drop_index("uq_response_one_draft", table_name="response")
