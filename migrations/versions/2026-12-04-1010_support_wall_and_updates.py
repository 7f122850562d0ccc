"""wall of support and campaign updates

Revision ID: e5f6a7b8c9d0
Revises: d4e5f6a7b8c9
Create Date: 2026-12-04 10:10:00.000000+00:00

Donations get what the wall of support needs: `message_status` (shown, pending after the
keyword screen flagged the name or message, hidden by the nonprofit) and `hide_amount` (the
donor's choice). Existing donations stay shown, as they were. A campaign report may name one
donation (`donation_id`): a report about a donor's message rather than the campaign. Campaign
updates get their own table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = "e5f6a7b8c9d0"
down_revision: str | None = "d4e5f6a7b8c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("donations") as batch:
        batch.add_column(
            sa.Column(
                "message_status",
                _enum("donation_message_status", "shown", "pending", "hidden"),
                server_default="shown",
                nullable=False,
            )
        )
        batch.add_column(sa.Column("hide_amount", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("campaign_reports") as batch:
        batch.add_column(sa.Column("donation_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_campaign_reports_donation_id_donations"), "donations", ["donation_id"], ["id"]
        )
        batch.create_index(op.f("ix_campaign_reports_donation_id"), ["donation_id"], unique=False)
    op.create_table(
        "campaign_updates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("status", _enum("campaign_update_status", "published", "held"), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_updates_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name=op.f("fk_campaign_updates_nonprofit_id_nonprofits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_updates")),
    )
    op.create_index(
        "ix_campaign_updates_campaign_status_created",
        "campaign_updates",
        ["campaign_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_campaign_updates_nonprofit_id"), "campaign_updates", ["nonprofit_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_updates_nonprofit_id"), table_name="campaign_updates")
    op.drop_index("ix_campaign_updates_campaign_status_created", table_name="campaign_updates")
    op.drop_table("campaign_updates")
    # Batch mode: SQLite drops columns by copying the table.
    with op.batch_alter_table("campaign_reports") as batch:
        batch.drop_index(op.f("ix_campaign_reports_donation_id"))
        batch.drop_constraint(op.f("fk_campaign_reports_donation_id_donations"), type_="foreignkey")
        batch.drop_column("donation_id")
    with op.batch_alter_table("donations") as batch:
        batch.drop_column("hide_amount")
        # SQLite copies the table: the enum's CHECK must go with its column, or the copy fails.
        batch.drop_constraint(op.f("ck_donations_donation_message_status"), type_="check")
        batch.drop_column("message_status")
