"""member notifications and password resets (N)

Revision ID: f2a3b4c5d6e7
Revises: e1f2a3b4c5d6
Create Date: 2026-12-05 10:50:00.000000+00:00

Members choose how they hear about gifts and money (`member_notification_settings`, one row
per member who changed the defaults); `member_digests` records each member's daily digest once
per day, also a day without gifts, so a replayed job sends nothing twice; `password_resets`
holds one-time reset links for members and admins by the SHA-256 of their token.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = "f2a3b4c5d6e7"
down_revision: str | None = "e1f2a3b4c5d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_notification_settings",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column(
            "gift_emails",
            sa.Enum(
                "each",
                "daily",
                "none",
                name="gift_emails",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("money_emails", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("updated_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "language IN ('nl', 'en')", name=op.f("ck_member_notification_settings_language_known")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_notification_settings_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_notification_settings")),
    )
    op.create_table(
        "member_digests",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("gift_count", sa.Integer(), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("gift_count >= 0", name=op.f("ck_member_digests_gift_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_digests_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", "day", name=op.f("pk_member_digests")),
    )
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "account",
            sa.Enum(
                "member",
                "admin",
                name="password_reset_account",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_password_resets_token_digest")),
    )
    op.create_index("ix_password_resets_subject", "password_resets", ["account", "subject_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_password_resets_subject", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_table("member_digests")
    op.drop_table("member_notification_settings")
