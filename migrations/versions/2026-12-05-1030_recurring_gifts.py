"""recurring gifts and donation language (S2)

Revision ID: d0e1f2a3b4c5
Revises: c9d0e1f2a3b4
Create Date: 2026-12-05 10:30:00.000000+00:00

donations.language: the language the donor gave in ('nl' or 'en'), for receipts and other
email; NULL for gifts made before it was recorded.

Recurring gifts (campaigns/recurring): one recurring_gifts row per Stripe subscription, made
from verified events only; each paid invoice is one donation (donations.stripe_invoice_id
UNIQUE: a replayed or reordered invoice.paid can never book a second one), numbered per gift
in recurring_installments. donations.recurring_interval and donations.installment tell the
lower layers (matching's recurring rule, receipts, the thank-you page) what kind of gift it is.
matching_programs.recurring_rule: match the first installment only (default) or each one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = "d0e1f2a3b4c5"
down_revision: str | None = "c9d0e1f2a3b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("donations") as batch:
        batch.add_column(sa.Column("language", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("recurring_interval", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("installment", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("stripe_invoice_id", sa.String(length=255), nullable=True))
        batch.create_check_constraint(op.f("ck_donations_language_known"), "language IN ('nl', 'en')")
        batch.create_check_constraint(
            op.f("ck_donations_recurring_interval_known"), "recurring_interval IN ('month', 'year')"
        )
        batch.create_check_constraint(
            op.f("ck_donations_installment_of_a_recurring_gift"),
            "installment IS NULL OR (installment >= 1 AND recurring_interval IS NOT NULL)",
        )
        batch.create_unique_constraint(op.f("uq_donations_stripe_invoice_id"), ["stripe_invoice_id"])
    with op.batch_alter_table("matching_programs") as batch:
        batch.add_column(
            sa.Column(
                "recurring_rule",
                _enum("first_installment", "each_installment", name="matching_recurring_rule"),
                server_default="first_installment",
                nullable=False,
            )
        )
    op.create_table(
        "recurring_gifts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("first_donation_id", sa.Uuid(), nullable=False),
        sa.Column("donor_email", sa.String(length=320), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_cover_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("interval", _enum("month", "year", name="recurring_interval"), nullable=False),
        sa.Column(
            "status",
            _enum("active", "past_due", "canceled", "ended", name="recurring_status"),
            nullable=False,
        ),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("referral_link_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", service.db.UTCDateTime(), nullable=False),
        sa.Column("current_period_end", service.db.UTCDateTime(), nullable=True),
        sa.Column("cancel_at", service.db.UTCDateTime(), nullable=True),
        sa.Column("canceled_at", service.db.UTCDateTime(), nullable=True),
        sa.Column("ended_at", service.db.UTCDateTime(), nullable=True),
        sa.Column("stripe_updated_at", service.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", service.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", service.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_recurring_gifts_amount_positive")),
        sa.CheckConstraint("fee_cover_minor >= 0", name=op.f("ck_recurring_gifts_fee_cover_not_negative")),
        sa.CheckConstraint("currency = lower(currency)", name=op.f("ck_recurring_gifts_currency_lowercase")),
        sa.CheckConstraint("language IN ('nl', 'en')", name=op.f("ck_recurring_gifts_language_known")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_recurring_gifts_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["first_donation_id"],
            ["donations.id"],
            name=op.f("fk_recurring_gifts_first_donation_id_donations"),
        ),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name=op.f("fk_recurring_gifts_nonprofit_id_nonprofits")
        ),
        sa.ForeignKeyConstraint(
            ["referral_link_id"],
            ["share_links.id"],
            name=op.f("fk_recurring_gifts_referral_link_id_share_links"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurring_gifts")),
        sa.UniqueConstraint("first_donation_id", name=op.f("uq_recurring_gifts_first_donation_id")),
        sa.UniqueConstraint("stripe_subscription_id", name=op.f("uq_recurring_gifts_stripe_subscription_id")),
    )
    op.create_index("ix_recurring_gifts_campaign_status", "recurring_gifts", ["campaign_id", "status"])
    op.create_index(op.f("ix_recurring_gifts_donor_email"), "recurring_gifts", ["donor_email"])
    op.create_index(op.f("ix_recurring_gifts_nonprofit_id"), "recurring_gifts", ["nonprofit_id"])
    op.create_index(op.f("ix_recurring_gifts_stripe_customer_id"), "recurring_gifts", ["stripe_customer_id"])
    op.create_table(
        "recurring_installments",
        sa.Column("donation_id", sa.Uuid(), nullable=False),
        sa.Column("recurring_gift_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["donation_id"], ["donations.id"], name=op.f("fk_recurring_installments_donation_id_donations")
        ),
        sa.ForeignKeyConstraint(
            ["recurring_gift_id"],
            ["recurring_gifts.id"],
            name=op.f("fk_recurring_installments_recurring_gift_id_recurring_gifts"),
        ),
        sa.PrimaryKeyConstraint("donation_id", name=op.f("pk_recurring_installments")),
        sa.UniqueConstraint(
            "recurring_gift_id", "number", name=op.f("uq_recurring_installments_recurring_gift_id_number")
        ),
    )

    op.create_table(
        "recurring_payment_failures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recurring_gift_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_invoice_id", sa.String(length=255), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("next_attempt_at", service.db.UTCDateTime(), nullable=True),
        sa.Column("card_link_digest", sa.String(length=64), nullable=False),
        sa.Column("card_link_expires_at", service.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recurring_gift_id"],
            ["recurring_gifts.id"],
            name=op.f("fk_recurring_payment_failures_recurring_gift_id_recurring_gifts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurring_payment_failures")),
        sa.UniqueConstraint("card_link_digest", name=op.f("uq_recurring_payment_failures_card_link_digest")),
        sa.UniqueConstraint(
            "stripe_invoice_id",
            "attempt",
            name=op.f("uq_recurring_payment_failures_stripe_invoice_id_attempt"),
        ),
    )
    op.create_index(
        op.f("ix_recurring_payment_failures_recurring_gift_id"),
        "recurring_payment_failures",
        ["recurring_gift_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_recurring_payment_failures_recurring_gift_id"), table_name="recurring_payment_failures"
    )
    op.drop_table("recurring_payment_failures")
    op.drop_table("recurring_installments")
    op.drop_index(op.f("ix_recurring_gifts_stripe_customer_id"), table_name="recurring_gifts")
    op.drop_index(op.f("ix_recurring_gifts_nonprofit_id"), table_name="recurring_gifts")
    op.drop_index(op.f("ix_recurring_gifts_donor_email"), table_name="recurring_gifts")
    op.drop_index("ix_recurring_gifts_campaign_status", table_name="recurring_gifts")
    op.drop_table("recurring_gifts")
    with op.batch_alter_table("matching_programs") as batch:
        batch.drop_constraint(op.f("ck_matching_programs_matching_recurring_rule"), type_="check")
        batch.drop_column("recurring_rule")
    with op.batch_alter_table("donations") as batch:
        batch.drop_constraint(op.f("uq_donations_stripe_invoice_id"), type_="unique")
        batch.drop_constraint(op.f("ck_donations_installment_of_a_recurring_gift"), type_="check")
        batch.drop_constraint(op.f("ck_donations_recurring_interval_known"), type_="check")
        batch.drop_constraint(op.f("ck_donations_language_known"), type_="check")
        batch.drop_column("stripe_invoice_id")
        batch.drop_column("installment")
        batch.drop_column("recurring_interval")
        batch.drop_column("language")
