"""Receipts, their per-nonprofit per-year counters and the nonprofit's tax profile."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, updated_at_column, uuid_pk


class TaxScheme(StrEnum):
    """Which tax text a receipt carries; derived from the profile's country and identifier."""

    ANBI = "anbi"
    """NL: a public benefit organisation (ANBI) with its RSIN."""
    US_501C3 = "us_501c3"
    """US: a 501(c)(3) organisation with its EIN."""
    UK_CHARITY = "uk_charity"
    """GB: a registered charity with its charity number."""
    NEUTRAL = "neutral"
    """Anywhere else, or no identifier given: no claim about deductibility."""


class TaxProfile(Base):
    """How a nonprofit appears on its receipts. One per nonprofit; until it exists, receipts use
    the nonprofit's name, country and registration number and the neutral text."""

    __tablename__ = "tax_profiles"

    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), primary_key=True)
    legal_name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2))
    registration_number: Mapped[str] = mapped_column(sa.String(100))
    """The registry's number (e.g. the KvK number in NL)."""
    tax_id: Mapped[str | None] = mapped_column(sa.String(20))
    """The country's tax identifier: RSIN (NL), EIN (US, NN-NNNNNNN), charity number (GB)."""
    time_zone: Mapped[str] = mapped_column(sa.String(64))
    """IANA zone in which a gift's date, and so its receipt year, is read."""
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class ReceiptKind(StrEnum):
    RECEIPT = "receipt"
    """The receipt for a confirmed gift."""
    CORRECTION = "correction"
    """Replaces an earlier receipt after a refund or a lost dispute; refers to it."""


class ReceiptCounter(Base):
    """The last number issued per nonprofit and year: the row is locked by the UPDATE that takes
    the next numbers, so a rolled-back unit gives its numbers back (a sequence would not)."""

    __tablename__ = "receipt_counters"
    __table_args__ = (sa.CheckConstraint("last_number > 0", name="last_number_positive"),)

    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer(), primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(sa.Integer())


class Receipt(Base):
    """One issued receipt. Issuer and donor are copied in, so a receipt reads the same years
    later whatever the nonprofit changes in its profile."""

    __tablename__ = "receipts"
    __table_args__ = (
        sa.UniqueConstraint("nonprofit_id", "year", "number"),
        sa.UniqueConstraint("donation_id", "kind", "cause"),
        sa.CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        sa.CheckConstraint(
            "fee_cover_minor >= 0 AND fee_cover_minor <= amount_minor", name="fee_cover_within_amount"
        ),
        sa.CheckConstraint("number IS NULL OR number > 0", name="number_positive"),
        sa.CheckConstraint("(kind = 'correction') = (refers_to_id IS NOT NULL)", name="correction_refers"),
        sa.CheckConstraint("currency = lower(currency)", name="currency_lowercase"),
        # Numbers are given out just before commit (campaigns.receipts.numbering); this index
        # finds the unit's still unnumbered receipts without scanning the table.
        sa.Index(
            "ix_receipts_unnumbered",
            "nonprofit_id",
            postgresql_where=sa.text("number IS NULL"),
            sqlite_where=sa.text("number IS NULL"),
        ),
        # The receipt emails job (campaigns.receipts.mailing) claims numbered, unsent receipts.
        sa.Index(
            "ix_receipts_unsent",
            "issued_at",
            postgresql_where=sa.text("emailed_at IS NULL"),
            sqlite_where=sa.text("emailed_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"))
    donation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("donations.id"), index=True)
    kind: Mapped[ReceiptKind] = mapped_column(str_enum(ReceiptKind, "receipt_kind"))
    cause: Mapped[str] = mapped_column(sa.String(200))
    """The fact that issued it (campaigns.facts.Fact.key): the same fact never issues twice."""
    year: Mapped[int] = mapped_column(sa.Integer())
    number: Mapped[int | None] = mapped_column(sa.Integer())
    """Gapless per nonprofit and year; None only inside the issuing transaction."""
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger())
    """What the donor gave (gift plus fee cover), net of refunds and lost disputes for a correction."""
    currency: Mapped[str] = mapped_column(sa.String(3))
    fee_cover_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0, server_default="0")
    """Of amount_minor, what the donor added to cover processing fees (0 on corrections)."""
    refers_to_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("receipts.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    gift_date: Mapped[date] = mapped_column(sa.Date())
    """The day the money arrived, in the issuer's time zone."""
    language: Mapped[str] = mapped_column(sa.String(2))
    donor_email: Mapped[str] = mapped_column(sa.String(320), index=True)
    donor_name: Mapped[str | None] = mapped_column(sa.String(200))
    payment_method: Mapped[str | None] = mapped_column(sa.String(32))
    """Stripe's payment method type (card, ideal, sepa_debit, bancontact, ...) when known."""
    issuer: Mapped[dict[str, Any]] = mapped_column(sa.JSON())
    """legal_name, country, registration_number, tax_id, scheme at the time of issue."""
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the email with the PDF went into the mail outbox (campaigns.receipts.mailing)."""
    created_at: Mapped[datetime] = created_at_column()

    @property
    def display_number(self) -> str:
        return format_number(self.year, self.number)


def format_number(year: int, number: int | None) -> str:
    """`2026-000123`."""
    if number is None:
        raise ValueError("the receipt has no number yet")
    return f"{year}-{number:06d}"
