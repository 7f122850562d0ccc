"""payouts: Stripe Transfers of approved matches and their reversals (outbox rows)

Revision ID: f7b2d4e6a8c0
Revises: e6a1c3d5f7b9
Create Date: 2026-11-28 08:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = "f7b2d4e6a8c0"
down_revision: str | None = "e6a1c3d5f7b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payouts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("match_id", sa.Uuid(), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("donation_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("netted_minor", sa.BigInteger(), nullable=False),
        sa.Column("netting", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "payable",
                "queued",
                "sending",
                "sent",
                "transferred",
                "paid",
                "failed",
                name="payout_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("transfer_group", sa.String(length=200), nullable=False),
        sa.Column("destination", sa.String(length=255), nullable=True),
        sa.Column("stripe_transfer_id", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status <> 'paid' OR stripe_transfer_id IS NOT NULL OR netted_minor = amount_minor",
            name=op.f("ck_payouts_paid_has_transfer"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payouts_amount_positive")),
        sa.CheckConstraint("currency = lower(currency)", name=op.f("ck_payouts_currency_lowercase")),
        sa.CheckConstraint(
            "netted_minor >= 0 AND netted_minor <= amount_minor", name=op.f("ck_payouts_netted_within_amount")
        ),
        sa.ForeignKeyConstraint(
            ["donation_id"], ["donations.id"], name=op.f("fk_payouts_donation_id_donations")
        ),
        sa.ForeignKeyConstraint(["match_id"], ["matches.id"], name=op.f("fk_payouts_match_id_matches")),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name=op.f("fk_payouts_nonprofit_id_nonprofits")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["matching_programs.id"], name=op.f("fk_payouts_program_id_matching_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payouts_idempotency_key")),
        sa.UniqueConstraint("match_id", name=op.f("uq_payouts_match_id")),
        sa.UniqueConstraint("stripe_transfer_id", name=op.f("uq_payouts_stripe_transfer_id")),
    )
    op.create_index(op.f("ix_payouts_nonprofit_id"), "payouts", ["nonprofit_id"], unique=False)
    op.create_index(op.f("ix_payouts_program_id"), "payouts", ["program_id"], unique=False)
    op.create_index("ix_payouts_status_next_attempt", "payouts", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "payout_reversals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payout_id", sa.Uuid(), nullable=False),
        sa.Column("match_id", sa.Uuid(), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "clawback",
                "overpayment",
                name="payout_reversal_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("cause", sa.String(length=120), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("receivable_minor", sa.BigInteger(), nullable=False),
        sa.Column("open_receivable_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "reversed",
                "receivable",
                name="payout_reversal_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("stripe_reversal_id", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payout_reversals_amount_positive")),
        sa.CheckConstraint(
            "open_receivable_minor >= 0 AND open_receivable_minor <= receivable_minor",
            name=op.f("ck_payout_reversals_open_within_receivable"),
        ),
        sa.CheckConstraint(
            "receivable_minor >= 0 AND receivable_minor <= amount_minor",
            name=op.f("ck_payout_reversals_receivable_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["match_id"], ["matches.id"], name=op.f("fk_payout_reversals_match_id_matches")
        ),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name=op.f("fk_payout_reversals_nonprofit_id_nonprofits")
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payouts.id"], name=op.f("fk_payout_reversals_payout_id_payouts")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["matching_programs.id"],
            name=op.f("fk_payout_reversals_program_id_matching_programs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_reversals")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payout_reversals_idempotency_key")),
        sa.UniqueConstraint("stripe_reversal_id", name=op.f("uq_payout_reversals_stripe_reversal_id")),
    )
    op.create_index(op.f("ix_payout_reversals_match_id"), "payout_reversals", ["match_id"], unique=False)
    op.create_index(
        "ix_payout_reversals_nonprofit_open",
        "payout_reversals",
        ["nonprofit_id", "currency", "open_receivable_minor"],
        unique=False,
    )
    op.create_index(op.f("ix_payout_reversals_payout_id"), "payout_reversals", ["payout_id"], unique=False)
    op.create_index(op.f("ix_payout_reversals_program_id"), "payout_reversals", ["program_id"], unique=False)
    op.create_index(
        "ix_payout_reversals_status_next_attempt",
        "payout_reversals",
        ["status", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_payout_reversals_status_next_attempt", table_name="payout_reversals")
    op.drop_index(op.f("ix_payout_reversals_program_id"), table_name="payout_reversals")
    op.drop_index(op.f("ix_payout_reversals_payout_id"), table_name="payout_reversals")
    op.drop_index("ix_payout_reversals_nonprofit_open", table_name="payout_reversals")
    op.drop_index(op.f("ix_payout_reversals_match_id"), table_name="payout_reversals")
    op.drop_table("payout_reversals")
    op.drop_index("ix_payouts_status_next_attempt", table_name="payouts")
    op.drop_index(op.f("ix_payouts_program_id"), table_name="payouts")
    op.drop_index(op.f("ix_payouts_nonprofit_id"), table_name="payouts")
    op.drop_table("payouts")
