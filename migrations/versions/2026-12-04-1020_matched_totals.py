"""campaign totals: matched money next to raised

Revision ID: f6a7b8c9d0e1
Revises: e5f6a7b8c9d0
Create Date: 2026-12-04 10:20:00.000000+00:00

campaigns.matched_minor, kept by the same refresh as raised_minor and donor_count. The
backfill counts what campaigns.matching.totals counts: matches pending, held for review,
approved or paid, net of what was clawed back; voided matches count nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f6a7b8c9d0e1"
down_revision: str | None = "e5f6a7b8c9d0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("matched_minor", sa.BigInteger(), server_default="0", nullable=False))
    op.execute(
        """
        UPDATE campaigns SET matched_minor = COALESCE((
            SELECT SUM(m.amount_minor - m.recovered_minor) FROM matches m
            WHERE m.campaign_id = campaigns.id
              AND m.status IN ('pending', 'held_for_review', 'approved', 'paid')
        ), 0)
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("matched_minor")
