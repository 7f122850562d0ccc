"""Payment mismatches: Stripe payments that named a donation but are not the payment made for it.

A webhook may only move a donation when its object is the payment Goodloop created: the
Checkout Session recorded at checkout (or the PaymentIntent and charge Stripe linked to it),
for the same amount and currency, on the expected account. Anything else (a connected
account forging a gift with our donation's id in its metadata, a replayed event with edited
metadata, a 0.50 charge claiming a 25.00 gift) leaves the donation alone and is written here
once per event, for finance admins to look at, and counted in /metrics.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, created_at_column, insert_for, str_enum, uuid_pk
from service.pagination import after_cursor
from service.unit_of_work import UnitOfWork


class MismatchReason(StrEnum):
    WRONG_ACCOUNT = "wrong_account"
    """Sent by (or paying) a Stripe account other than the one the donation's payment is on."""
    WRONG_AMOUNT = "wrong_amount"
    """The amount is not what the donor was asked to pay (or exceeds it, for refunds and disputes)."""
    WRONG_CURRENCY = "wrong_currency"
    """Not the donation's currency."""
    UNKNOWN_PAYMENT = "unknown_payment"
    """Not the session, payment or charge recorded for the donation it names."""
    METADATA_DISAGREES = "metadata_disagrees"
    """The payment is a donation's, but its metadata names another donation."""


PAYMENT_MISMATCHES = Counter(
    "goodloop_payment_mismatches_total",
    "Stripe events refused because their payment is not the one made for the donation they name",
    ["reason"],
)
for _reason in MismatchReason:
    # Every series exists from the start at 0, so an alert on increase() sees the first one.
    PAYMENT_MISMATCHES.labels(_reason.value)


class PaymentMismatch(Base):
    __tablename__ = "payment_mismatches"
    # The console and the API page through it oldest first by (created_at, id).
    __table_args__ = (sa.Index("ix_payment_mismatches_created", "created_at", "id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    stripe_event_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    """One row per event: a redelivery or a replay of the same event adds nothing."""
    event_type: Mapped[str] = mapped_column(sa.String(100))
    stripe_account_id: Mapped[str | None] = mapped_column(sa.String(255))
    """The account the event came from (None: the platform)."""
    stripe_object_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    donation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("donations.id"), index=True)
    """The donation concerned: the one the payment is bound to, or else the one it claimed."""
    claimed_donation_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    """metadata.donation_id as the event sent it; no foreign key, it is the sender's word."""
    reason: Mapped[MismatchReason] = mapped_column(str_enum(MismatchReason, "payment_mismatch_reason"))
    expected_amount_minor: Mapped[int | None] = mapped_column(sa.BigInteger())
    received_amount_minor: Mapped[int | None] = mapped_column(sa.BigInteger())
    expected_currency: Mapped[str | None] = mapped_column(sa.String(3))
    received_currency: Mapped[str | None] = mapped_column(sa.String(16))
    expected_account_id: Mapped[str | None] = mapped_column(sa.String(255))
    """The account the payment should have come from (None: the platform)."""
    detail: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = created_at_column()


@dataclass(frozen=True)
class Mismatch:
    """What is wrong with one event's payment, before it is written down."""

    reason: MismatchReason
    detail: str
    donation_id: uuid.UUID | None = None
    expected_amount_minor: int | None = None
    received_amount_minor: int | None = None
    expected_currency: str | None = None
    received_currency: str | None = None
    expected_account_id: str | None = None


@dataclass(frozen=True)
class SeenEvent:
    """The event a mismatch was found in."""

    stripe_event_id: str
    event_type: str
    stripe_account_id: str | None
    stripe_object_id: str | None
    claimed_donation_id: uuid.UUID | None


async def record_mismatch(session: UnitOfWork, *, event: SeenEvent, mismatch: Mismatch) -> bool:
    """Write the mismatch once per event; True when this call wrote it.

    The counter moves only when the transaction commits: the processor may roll a batch back
    and run it again one event at a time, and a mismatch must not be counted twice.
    """
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "stripe_event_id": event.stripe_event_id[:255],
        "event_type": event.event_type[:100],
        "stripe_account_id": _cut(event.stripe_account_id, 255),
        "stripe_object_id": _cut(event.stripe_object_id, 255),
        "claimed_donation_id": event.claimed_donation_id,
        "donation_id": mismatch.donation_id,
        "reason": mismatch.reason,
        "expected_amount_minor": mismatch.expected_amount_minor,
        "received_amount_minor": mismatch.received_amount_minor,
        "expected_currency": mismatch.expected_currency,
        "received_currency": _cut(mismatch.received_currency, 16),
        "expected_account_id": _cut(mismatch.expected_account_id, 255),
        "detail": mismatch.detail[:500],
        "created_at": session.now(),
    }
    inserted = await session.scalar(
        insert_for(session, PaymentMismatch)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["stripe_event_id"])
        .returning(PaymentMismatch.id)
    )
    if inserted is None:
        return False
    reason = mismatch.reason
    session.after_commit(lambda: PAYMENT_MISMATCHES.labels(reason.value).inc())
    return True


def _cut(value: str | None, limit: int) -> str | None:
    return value[:limit] if value is not None else None


async def list_mismatches(
    session: AsyncSession, *, reason: MismatchReason | None = None, limit: int, cursor: str | None
) -> Sequence[PaymentMismatch]:
    """Oldest first, keyset-paginated; fetches limit + 1 so the caller can tell a next page."""
    query = sa.select(PaymentMismatch)
    if reason is not None:
        query = query.where(PaymentMismatch.reason == reason)
    query = after_cursor(query, PaymentMismatch.created_at, PaymentMismatch.id, cursor)
    return (await session.scalars(query.limit(limit + 1))).all()


async def count_mismatches(session: AsyncSession) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(PaymentMismatch)) or 0)
