"""donor portal sign-in links (P)

Revision ID: e1f2a3b4c5d6
Revises: d0e1f2a3b4c5
Create Date: 2026-12-05 10:40:00.000000+00:00

The donor portal (`/donor`): one-time sign-in links and donor sessions, both keyed by the
SHA-256 of a random token (never the token), and the recurring-gift changes a donor asked
Stripe to make, shown as pending until Stripe's webhook changes the gift.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = "e1f2a3b4c5d6"
down_revision: str | None = "d0e1f2a3b4c5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "donor_sign_in_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_donor_sign_in_links_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donor_sign_in_links")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_donor_sign_in_links_token_digest")),
    )
    op.create_index(
        op.f("ix_donor_sign_in_links_expires_at"), "donor_sign_in_links", ["expires_at"], unique=False
    )
    op.create_table(
        "donor_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_donor_sessions_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donor_sessions")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_donor_sessions_token_digest")),
    )
    op.create_index(op.f("ix_donor_sessions_expires_at"), "donor_sessions", ["expires_at"], unique=False)
    op.create_table(
        "donor_recurring_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recurring_gift_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "amount",
                "cancel",
                name="donor_recurring_change_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'amount') = (amount_minor IS NOT NULL AND amount_minor > 0)",
            name=op.f("ck_donor_recurring_changes_amount_for_amount"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donor_recurring_changes")),
    )
    op.create_index(
        "ix_donor_recurring_changes_gift",
        "donor_recurring_changes",
        ["recurring_gift_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_donor_recurring_changes_gift", table_name="donor_recurring_changes")
    op.drop_table("donor_recurring_changes")
    op.drop_index(op.f("ix_donor_sessions_expires_at"), table_name="donor_sessions")
    op.drop_table("donor_sessions")
    op.drop_index(op.f("ix_donor_sign_in_links_expires_at"), table_name="donor_sign_in_links")
    op.drop_table("donor_sign_in_links")
