"""payment mismatches: Stripe payments that did not match the donation they named

Revision ID: a1b2c3d4e5f6
Revises: f7b2d4e6a8c0
Create Date: 2026-12-03 18:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = "a1b2c3d4e5f6"
down_revision: str | None = "f7b2d4e6a8c0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = ("wrong_account", "wrong_amount", "wrong_currency", "unknown_payment", "metadata_disagrees")


def upgrade() -> None:
    op.create_table(
        "payment_mismatches",
        sa.Column("id", sa.Uuid(), nullable=False),
        # UNIQUE: a webhook event is written down once however often it is delivered or replayed.
        sa.Column("stripe_event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("stripe_account_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_object_id", sa.String(length=255), nullable=True),
        sa.Column("donation_id", sa.Uuid(), nullable=True),
        sa.Column("claimed_donation_id", sa.Uuid(), nullable=True),
        sa.Column(
            "reason",
            sa.Enum(
                *REASONS,
                name="payment_mismatch_reason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("expected_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("received_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("expected_currency", sa.String(length=3), nullable=True),
        sa.Column("received_currency", sa.String(length=16), nullable=True),
        sa.Column("expected_account_id", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["donation_id"], ["donations.id"], name=op.f("fk_payment_mismatches_donation_id_donations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_mismatches")),
        sa.UniqueConstraint("stripe_event_id", name=op.f("uq_payment_mismatches_stripe_event_id")),
    )
    op.create_index("ix_payment_mismatches_created", "payment_mismatches", ["created_at", "id"], unique=False)
    op.create_index(
        op.f("ix_payment_mismatches_donation_id"), "payment_mismatches", ["donation_id"], unique=False
    )
    op.create_index(
        op.f("ix_payment_mismatches_stripe_object_id"),
        "payment_mismatches",
        ["stripe_object_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_mismatches_stripe_object_id"), table_name="payment_mismatches")
    op.drop_index(op.f("ix_payment_mismatches_donation_id"), table_name="payment_mismatches")
    op.drop_index("ix_payment_mismatches_created", table_name="payment_mismatches")
    op.drop_table("payment_mismatches")
