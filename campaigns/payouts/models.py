"""Payouts of matched money (Stripe Transfers) and their reversals, both rows of an outbox.

A `Payout` is the one transfer of one match to its nonprofit's connected account; a
`PayoutReversal` takes (part of) it back after a refund or a lost dispute, or the part of it a
match lost while the transfer was in flight. Both are claimed by the worker, sent to Stripe
outside any transaction with a deterministic idempotency key, and confirmed only by verified
`transfer.*` webhooks. A reversal Stripe refuses becomes a receivable, netted against the
nonprofit's next payout in the same currency.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, created_at_column, str_enum, updated_at_column, uuid_pk


class PayoutStatus(StrEnum):
    PAYABLE = "payable"
    """Owed, but the nonprofit has no payout-ready connected account yet."""
    QUEUED = "queued"
    """Waiting for the worker (due at next_attempt_at)."""
    SENDING = "sending"
    """Claimed; the Stripe call is in flight or will be retried (lease until next_attempt_at)."""
    SENT = "sent"
    """Stripe created the transfer; waiting for the transfer.created webhook."""
    TRANSFERRED = "transferred"
    """A verified webhook says the transfer exists, but the match went back to review while it
    was in flight: paid (or reversed, if rejected) once a person has decided."""
    PAID = "paid"
    """Confirmed by a verified webhook (or settled by netting alone); the match is paid."""
    FAILED = "failed"
    """Stripe refused it for good; a finance admin must look (nothing was transferred)."""


class ReversalKind(StrEnum):
    CLAWBACK = "clawback"
    """A refund or dispute after payment: the pool gets the money back when it settles."""
    OVERPAYMENT = "overpayment"
    """The match shrank or was voided while its transfer was in flight: the pool never paid it."""


class ReversalStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    """Stripe made the reversal; waiting for the transfer.reversed webhook."""
    REVERSED = "reversed"
    """Confirmed by a verified webhook: the money is back."""
    RECEIVABLE = "receivable"
    """Stripe refused it (or nothing was left to reverse): the nonprofit owes it; netted later."""


class Payout(Base):
    __tablename__ = "payouts"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint("netted_minor >= 0 AND netted_minor <= amount_minor", name="netted_within_amount"),
        sa.CheckConstraint("currency = lower(currency)", name="currency_lowercase"),
        # Paid means Stripe moved it (a transfer id) or netting settled all of it.
        sa.CheckConstraint(
            "status <> 'paid' OR stripe_transfer_id IS NOT NULL OR netted_minor = amount_minor",
            name="paid_has_transfer",
        ),
        sa.Index("ix_payouts_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    match_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("matches.id"), unique=True)
    program_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("matching_programs.id"), index=True)
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"), index=True)
    donation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("donations.id"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger())
    """The match's worth when the payout was first attempted (frozen from then on)."""
    netted_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    """Receivables of the nonprofit kept back from this payout (the transfer is smaller by it)."""
    netting: Mapped[dict[str, int]] = mapped_column(sa.JSON(), default=dict)
    """Which receivables (reversal id -> amount) were netted."""
    status: Mapped[PayoutStatus] = mapped_column(str_enum(PayoutStatus, "payout_status"))
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    transfer_group: Mapped[str] = mapped_column(sa.String(200))
    destination: Mapped[str | None] = mapped_column(sa.String(255))
    stripe_transfer_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    attempts: Mapped[int] = mapped_column(sa.Integer(), default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def transfer_minor(self) -> int:
        """What the Stripe transfer moves: the match less what was netted."""
        return self.amount_minor - self.netted_minor


class PayoutReversal(Base):
    __tablename__ = "payout_reversals"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint(
            "receivable_minor >= 0 AND receivable_minor <= amount_minor", name="receivable_within_amount"
        ),
        sa.CheckConstraint(
            "open_receivable_minor >= 0 AND open_receivable_minor <= receivable_minor",
            name="open_within_receivable",
        ),
        sa.Index("ix_payout_reversals_status_next_attempt", "status", "next_attempt_at"),
        sa.Index("ix_payout_reversals_nonprofit_open", "nonprofit_id", "currency", "open_receivable_minor"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    payout_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("payouts.id"), index=True)
    match_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("matches.id"), index=True)
    program_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("matching_programs.id"), index=True)
    nonprofit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("nonprofits.id"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    kind: Mapped[ReversalKind] = mapped_column(str_enum(ReversalKind, "payout_reversal_kind"))
    cause: Mapped[str] = mapped_column(sa.String(120))
    """What caused it: a refund id, a dispute id, or `overpaid`."""
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger())
    """What is taken back in all (by Stripe reversal, or owed as a receivable)."""
    receivable_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    """The part that became a receivable (Stripe refused, or the transfer had too little left)."""
    open_receivable_minor: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    """The part of the receivable not yet netted against a payout."""
    status: Mapped[ReversalStatus] = mapped_column(str_enum(ReversalStatus, "payout_reversal_status"))
    stripe_reversal_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    attempts: Mapped[int] = mapped_column(sa.Integer(), default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def stripe_minor(self) -> int:
        """What is asked of Stripe (the rest was a receivable from the start or after a refusal)."""
        return self.amount_minor - self.receivable_minor
