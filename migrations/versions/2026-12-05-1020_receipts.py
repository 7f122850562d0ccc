"""receipts and nonprofit tax profile (R)

Revision ID: c9d0e1f2a3b4
Revises: b8c9d0e1f2a3
Create Date: 2026-12-05 10:20:00.000000+00:00

tax_profiles: how a nonprofit appears on its receipts (legal name, country, registration number,
tax identifier, time zone). receipt_counters: the last number issued per nonprofit and year,
taken with one locking UPDATE in the issuing transaction so numbers are gapless (a sequence
would leave gaps after a rollback). receipts: every issued receipt and corrected receipt;
UNIQUE (nonprofit_id, year, number) so no number is issued twice, UNIQUE (donation_id, kind,
cause) so a replayed fact issues nothing. donations.payment_method_type: what the charge says
the donor paid with, shown on the receipt.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.db import UTCDateTime

revision: str = "c9d0e1f2a3b4"
down_revision: str | None = "b8c9d0e1f2a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tax_profiles",
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("legal_name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("registration_number", sa.String(100), nullable=False),
        sa.Column("tax_id", sa.String(20), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name="fk_tax_profiles_nonprofit_id_nonprofits"
        ),
        sa.PrimaryKeyConstraint("nonprofit_id", name="pk_tax_profiles"),
    )
    op.create_table(
        "receipt_counters",
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_number > 0", name="ck_receipt_counters_last_number_positive"),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name="fk_receipt_counters_nonprofit_id_nonprofits"
        ),
        sa.PrimaryKeyConstraint("nonprofit_id", "year", name="pk_receipt_counters"),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("donation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "receipt",
                "correction",
                name="receipt_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("cause", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("fee_cover_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refers_to_id", sa.Uuid(), nullable=True),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("gift_date", sa.Date(), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("donor_email", sa.String(320), nullable=False),
        sa.Column("donor_name", sa.String(200), nullable=True),
        sa.Column("payment_method", sa.String(32), nullable=True),
        sa.Column("issuer", sa.JSON(), nullable=False),
        sa.Column("emailed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name="ck_receipts_amount_not_negative"),
        sa.CheckConstraint(
            "fee_cover_minor >= 0 AND fee_cover_minor <= amount_minor",
            name="ck_receipts_fee_cover_within_amount",
        ),
        sa.CheckConstraint("number IS NULL OR number > 0", name="ck_receipts_number_positive"),
        sa.CheckConstraint(
            "(kind = 'correction') = (refers_to_id IS NOT NULL)", name="ck_receipts_correction_refers"
        ),
        sa.CheckConstraint("currency = lower(currency)", name="ck_receipts_currency_lowercase"),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name="fk_receipts_nonprofit_id_nonprofits"
        ),
        sa.ForeignKeyConstraint(["donation_id"], ["donations.id"], name="fk_receipts_donation_id_donations"),
        sa.ForeignKeyConstraint(["refers_to_id"], ["receipts.id"], name="fk_receipts_refers_to_id_receipts"),
        sa.PrimaryKeyConstraint("id", name="pk_receipts"),
        sa.UniqueConstraint("nonprofit_id", "year", "number", name="uq_receipts_nonprofit_id_year_number"),
        sa.UniqueConstraint("donation_id", "kind", "cause", name="uq_receipts_donation_id_kind_cause"),
    )
    op.create_index("ix_receipts_donation_id", "receipts", ["donation_id"])
    op.create_index("ix_receipts_donor_email", "receipts", ["donor_email"])
    op.create_index(
        "ix_receipts_unnumbered",
        "receipts",
        ["nonprofit_id"],
        postgresql_where=sa.text("number IS NULL"),
        sqlite_where=sa.text("number IS NULL"),
    )
    op.create_index(
        "ix_receipts_unsent",
        "receipts",
        ["issued_at"],
        postgresql_where=sa.text("emailed_at IS NULL"),
        sqlite_where=sa.text("emailed_at IS NULL"),
    )
    with op.batch_alter_table("donations") as batch:
        batch.add_column(sa.Column("payment_method_type", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("donations") as batch:
        batch.drop_column("payment_method_type")
    op.drop_index("ix_receipts_unsent", table_name="receipts")
    op.drop_index("ix_receipts_unnumbered", table_name="receipts")
    op.drop_index("ix_receipts_donor_email", table_name="receipts")
    op.drop_index("ix_receipts_donation_id", table_name="receipts")
    op.drop_table("receipts")
    op.drop_table("receipt_counters")
    op.drop_table("tax_profiles")
