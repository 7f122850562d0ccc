"""Donations: created pending at checkout, moved forward only by verified Stripe webhooks."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, updated_at_column, uuid_pk


class DonationStatus(StrEnum):
    PENDING = "pending"
    """A Checkout Session was created; the donor has not paid yet."""
    PROCESSING = "processing"
    """Checkout completed with a delayed method (e.g. SEPA); money not settled yet."""
    CONFIRMED = "confirmed"
    """Stripe confirmed the payment (webhook)."""
    FAILED = "failed"
    """The payment failed or the delayed method bounced."""
    EXPIRED = "expired"
    """The Checkout Session expired unpaid."""
    REFUNDED = "refunded"
    """Refunded in full."""
    PARTIALLY_REFUNDED = "partially_refunded"
    """Refunded in part; refunded_minor says how much."""
    DISPUTED = "disputed"
    """The donor's bank opened a dispute."""


# Donation status only moves forward: a later webhook can never pull a donation back
# to an earlier state (Stripe delivers out of order). Rank decides "forward".
STATUS_RANK = {
    DonationStatus.PENDING: 0,
    DonationStatus.PROCESSING: 1,
    DonationStatus.EXPIRED: 2,
    DonationStatus.FAILED: 2,
    DonationStatus.CONFIRMED: 3,
    DonationStatus.PARTIALLY_REFUNDED: 4,
    DonationStatus.DISPUTED: 5,
    DonationStatus.REFUNDED: 6,
}
SETTLED = frozenset({DonationStatus.CONFIRMED, DonationStatus.PARTIALLY_REFUNDED})


class MessageStatus(StrEnum):
    """Whether the donor's name and message may appear on the campaign's wall of support."""

    SHOWN = "shown"
    """Public (a gift without name or message is shown too, as "Anonymous")."""
    PENDING = "pending"
    """The keyword screen flagged the name or message: held back until the nonprofit shows it."""
    HIDDEN = "hidden"
    """The nonprofit hid it; the gift still counts and appears as "Anonymous"."""


class Donation(Base):
    __tablename__ = "donations"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint("fee_cover_minor >= 0", name="fee_cover_not_negative"),
        sa.CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= amount_minor + fee_cover_minor", name="refund_bounded"
        ),
        sa.CheckConstraint("currency = lower(currency)", name="currency_lowercase"),
        sa.CheckConstraint("language IN ('nl', 'en')", name="language_known"),
        sa.CheckConstraint("recurring_interval IN ('month', 'year')", name="recurring_interval_known"),
        sa.CheckConstraint(
            "installment IS NULL OR (installment >= 1 AND recurring_interval IS NOT NULL)",
            name="installment_of_a_recurring_gift",
        ),
        sa.Index("ix_donations_campaign_status_created", "campaign_id", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    campaign_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("campaigns.id"))
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger())
    """The gift to the campaign."""
    fee_cover_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    """What the donor added to cover processing fees (charged on top of amount_minor)."""
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[DonationStatus] = mapped_column(
        str_enum(DonationStatus, "donation_status"), default=DonationStatus.PENDING
    )
    donor_email: Mapped[str | None] = mapped_column(sa.String(320), index=True)
    donor_name: Mapped[str | None] = mapped_column(sa.String(200))
    anonymous: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    message: Mapped[str | None] = mapped_column(sa.String(500))
    message_status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus, "donation_message_status"),
        default=MessageStatus.SHOWN,
        server_default=MessageStatus.SHOWN.value,
    )
    """What the wall of support shows of donor_name and message (campaigns.giving.wall)."""
    hide_amount: Mapped[bool] = mapped_column(sa.Boolean(), default=False, server_default=sa.false())
    """The donor asked that the wall not show how much they gave."""
    language: Mapped[str | None] = mapped_column(sa.String(2))
    """'nl' or 'en': the language the donor gave in (the form's choice or Accept-Language),
    for receipts and other email; None for gifts made before it was recorded."""
    recurring_interval: Mapped[str | None] = mapped_column(sa.String(5))
    """'month' or 'year' for an installment of a recurring gift (campaigns.recurring); None: once."""
    installment: Mapped[int | None] = mapped_column(sa.Integer())
    """Which installment of its recurring gift this is: 1 is the gift made at checkout, 2 and
    later are renewals (matching's recurring rule reads it); None for a one-off gift."""
    stripe_invoice_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    """The paid Stripe invoice this installment is: one donation per invoice."""
    referral_link_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("share_links.id"), index=True)
    device_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    client_hash: Mapped[str | None] = mapped_column(sa.String(64))
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(sa.String(2000))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    destination_account_id: Mapped[str | None] = mapped_column(sa.String(255))
    card_fingerprint: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    risk_score: Mapped[int | None] = mapped_column(sa.Integer())
    risk_level: Mapped[str | None] = mapped_column(sa.String(32))
    early_fraud_warning: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    refunded_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    dispute_status: Mapped[str | None] = mapped_column(sa.String(32))
    """Stripe's status of the payment's dispute (one per charge); won and lost are final
    (campaigns.donations.announcements announces the dispute and its close from it)."""
    stripe_fee_minor: Mapped[int | None] = mapped_column(sa.BigInteger())
    payment_method_type: Mapped[str | None] = mapped_column(sa.String(32))
    """Stripe's type of the method the donor paid with (card, ideal, sepa_debit, bancontact, ...),
    from the charge; receipts show it."""
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def charged_minor(self) -> int:
        return self.amount_minor + self.fee_cover_minor
