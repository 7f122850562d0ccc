"""trust and safety: match approvals, appeals, risk settings, campaign reports, admin pause

Revision ID: e6a1c3d5f7b9
Revises: d5f1b3c7e2a8
Create Date: 2026-11-28 07:20:45.760987+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = "e6a1c3d5f7b9"
down_revision: str | None = "d5f1b3c7e2a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_settings",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_by_admin_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "threshold IS NULL OR threshold >= 0", name=op.f("ck_risk_settings_threshold_not_negative")
        ),
        sa.CheckConstraint("weight >= 0 AND weight <= 1000", name=op.f("ck_risk_settings_weight_in_range")),
        sa.ForeignKeyConstraint(
            ["updated_by_admin_id"], ["admins.id"], name=op.f("fk_risk_settings_updated_by_admin_id_admins")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_risk_settings")),
    )
    op.create_table(
        "campaign_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "misleading",
                "impersonation",
                "offensive",
                "spam",
                "other",
                name="campaign_report_reason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("reporter_email", sa.String(length=320), nullable=True),
        sa.Column("client_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_admin_id", sa.Uuid(), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_reports_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_admin_id"],
            ["admins.id"],
            name=op.f("fk_campaign_reports_resolved_by_admin_id_admins"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_reports")),
    )
    op.create_index(
        "ix_campaign_reports_campaign_open", "campaign_reports", ["campaign_id", "resolved_at"], unique=False
    )
    op.create_table(
        "match_approvals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("match_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["admin_id"], ["admins.id"], name=op.f("fk_match_approvals_admin_id_admins")),
        sa.ForeignKeyConstraint(
            ["match_id"], ["matches.id"], name=op.f("fk_match_approvals_match_id_matches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_approvals")),
        sa.UniqueConstraint("match_id", "round", "admin_id", name="uq_match_approvals_match_round_admin"),
    )
    op.create_index(op.f("ix_match_approvals_match_id"), "match_approvals", ["match_id"], unique=False)
    op.add_column("campaigns", sa.Column("admin_pause_reason", sa.Text(), nullable=True))
    op.add_column("matches", sa.Column("appeal_message", sa.Text(), nullable=True))
    op.add_column("matches", sa.Column("appealed_at", service.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite drops columns by copying the table.
    with op.batch_alter_table("matches") as batch:
        batch.drop_column("appealed_at")
        batch.drop_column("appeal_message")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("admin_pause_reason")
    op.drop_index(op.f("ix_match_approvals_match_id"), table_name="match_approvals")
    op.drop_table("match_approvals")
    op.drop_index("ix_campaign_reports_campaign_open", table_name="campaign_reports")
    op.drop_table("campaign_reports")
    op.drop_table("risk_settings")
