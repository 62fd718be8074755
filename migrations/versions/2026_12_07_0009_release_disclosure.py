"""Dataset releases keep the report of their disclosure control.

``dataset_release.disclosure`` (JSON, empty for releases made before): the rule, the threshold k
and what was coarsened or suppressed when the release was frozen; every download's manifest
carries it. Sealed rows are not touched (their triggers refuse updates), so older releases keep
an empty report.

The column is added and dropped in place, not in batch mode: a batch copy of the table would
drop the triggers that keep sealed releases immutable (revision 0003).

Revision ID: 0009
Revises: 0008
Created: 2026-12-07 05:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dataset_release", sa.Column("disclosure", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE dataset_release DROP COLUMN disclosure")
