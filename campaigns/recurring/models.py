"""Recurring gifts: a Stripe subscription that gives to one campaign every month or year.

A gift row exists only once a verified event proved the subscription is ours: the
`checkout.session.completed` of the Checkout Session recorded for its first donation
(campaigns.recurring.service). Each paid invoice is one donation (`donations.stripe_invoice_id`
UNIQUE), linked here by `recurring_installments`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, updated_at_column, uuid_pk


class RecurringStatus(StrEnum):
    ACTIVE = "active"
    """Paying: the last installment went through (or none failed yet)."""
    PAST_DUE = "past_due"
    """An installment failed; Stripe retries it and the donor was asked to fix the card."""
    CANCELED = "canceled"
    """The donor (or the nonprofit) stopped it; one canceled at the end of the paid period is
    active with cancel_at set until that end."""
    ENDED = "ended"
    """Stripe ended it without anyone asking: every retry of an installment failed."""


class Interval(StrEnum):
    MONTH = "month"
    YEAR = "year"


STOPPED = frozenset({RecurringStatus.CANCELED, RecurringStatus.ENDED})
"""No installment will come any more (unless the donor undoes a cancel at period end)."""


class RecurringGift(Base):
    __tablename__ = "recurring_gifts"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint("fee_cover_minor >= 0", name="fee_cover_not_negative"),
        sa.CheckConstraint("currency = lower(currency)", name="currency_lowercase"),
        sa.CheckConstraint("language IN ('nl', 'en')", name="language_known"),
        sa.Index("ix_recurring_gifts_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), index=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"))
    first_donation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("donations.id"), unique=True)
    """The donation made at checkout: the subscription's first invoice pays it."""
    donor_email: Mapped[str | None] = mapped_column(sa.String(320), index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger())
    """The gift per interval; Stripe charges amount_minor + fee_cover_minor."""
    fee_cover_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    currency: Mapped[str] = mapped_column(sa.String(3))
    interval: Mapped[Interval] = mapped_column(str_enum(Interval, "recurring_interval"))
    status: Mapped[RecurringStatus] = mapped_column(
        str_enum(RecurringStatus, "recurring_status"), default=RecurringStatus.ACTIVE
    )
    stripe_subscription_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    language: Mapped[str | None] = mapped_column(sa.String(2))
    referral_link_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("share_links.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the donor subscribed (Stripe's start_date, else the checkout's completion)."""
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the next installment is due (or, once canceled at period end, when it ends)."""
    cancel_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set while it is canceled at the end of the paid period; it pays no further installment."""
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stripe_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Stripe's time (event.created) of the subscription state last applied: an older event,
    delivered late, does not overwrite a newer one."""
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    @property
    def charged_minor(self) -> int:
        return self.amount_minor + self.fee_cover_minor


class RecurringInstallment(Base):
    """Which donation is which installment of which gift."""

    __tablename__ = "recurring_installments"
    __table_args__ = (sa.UniqueConstraint("recurring_gift_id", "number"),)

    donation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("donations.id"), primary_key=True)
    recurring_gift_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("recurring_gifts.id"))
    number: Mapped[int] = mapped_column(sa.Integer())
    """1 for the gift made at checkout, then 2, 3, ... in the order the invoices were paid."""


class RecurringPaymentFailure(Base):
    """One failed attempt to pay one installment's invoice: the donor hears of each once."""

    __tablename__ = "recurring_payment_failures"
    __table_args__ = (sa.UniqueConstraint("stripe_invoice_id", "attempt"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    recurring_gift_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("recurring_gifts.id"), index=True)
    stripe_invoice_id: Mapped[str] = mapped_column(sa.String(255))
    attempt: Mapped[int] = mapped_column(sa.Integer())
    """Stripe's attempt_count on the invoice after this failure (1 is the first try)."""
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger())
    currency: Mapped[str] = mapped_column(sa.String(3))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When Stripe tries again; None when it will not (the last attempt)."""
    card_link_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    """SHA-256 of the token in the emailed "update your card" link (the token itself is never stored)."""
    card_link_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
