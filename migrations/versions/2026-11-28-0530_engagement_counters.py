"""engagement counters: daily per-campaign counts of page views and started checkouts

Revision ID: d5f1b3c7e2a8
Revises: c4e8a2b6d9f1
Create Date: 2026-11-28 05:00:40.671140+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d5f1b3c7e2a8"
down_revision: str | None = "c4e8a2b6d9f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "engagement_counters",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "metric",
            sa.Enum(
                "view",
                "checkout_started",
                name="engagement_metric",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_engagement_counters_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_engagement_counters_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "day", "metric", name=op.f("pk_engagement_counters")),
    )


def downgrade() -> None:
    op.drop_table("engagement_counters")
