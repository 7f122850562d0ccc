"""Named recurring-gift queries: find and lock gifts, list a donor's or a campaign's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.recurring.models import RecurringGift, RecurringInstallment, RecurringPaymentFailure
from service.db import locked_rows


def _one(rows: Sequence[RecurringGift]) -> RecurringGift | None:
    # locked_rows flushes first: a batch's earlier handler may have left this gift changed but
    # unwritten, and the reload must not throw that away.
    return rows[0] if rows else None


async def lock_gift_by_subscription(session: AsyncSession, subscription_id: str) -> RecurringGift | None:
    query = sa.select(RecurringGift).where(RecurringGift.stripe_subscription_id == subscription_id)
    return _one(await locked_rows(session, query))


async def lock_gift_by_first_donation(session: AsyncSession, donation_id: uuid.UUID) -> RecurringGift | None:
    query = sa.select(RecurringGift).where(RecurringGift.first_donation_id == donation_id)
    return _one(await locked_rows(session, query))


async def lock_gift(session: AsyncSession, gift_id: uuid.UUID) -> RecurringGift | None:
    query = sa.select(RecurringGift).where(RecurringGift.id == gift_id)
    return _one(await locked_rows(session, query))


async def get_gift(session: AsyncSession, gift_id: uuid.UUID) -> RecurringGift | None:
    return await session.get(RecurringGift, gift_id)


async def gift_of_donation(session: AsyncSession, donation_id: uuid.UUID) -> RecurringGift | None:
    """The recurring gift a donation is an installment of, if any."""
    return await session.scalar(
        sa.select(RecurringGift)
        .join(RecurringInstallment, RecurringInstallment.recurring_gift_id == RecurringGift.id)
        .where(RecurringInstallment.donation_id == donation_id)
    )


async def gift_for_customer(session: AsyncSession, customer_id: str) -> RecurringGift | None:
    return await session.scalar(
        sa.select(RecurringGift).where(RecurringGift.stripe_customer_id == customer_id).limit(1)
    )


async def installment_count(session: AsyncSession, gift_id: uuid.UUID) -> int:
    count = await session.scalar(
        sa.select(sa.func.count()).where(RecurringInstallment.recurring_gift_id == gift_id)
    )
    return int(count or 0)


async def gifts_for_email(session: AsyncSession, email: str) -> Sequence[RecurringGift]:
    """A donor's recurring gifts across nonprofits, newest first (the donor portal's list)."""
    found = await session.scalars(
        sa.select(RecurringGift)
        .where(sa.func.lower(RecurringGift.donor_email) == email.strip().lower())
        .order_by(RecurringGift.started_at.desc(), RecurringGift.id)
    )
    return found.all()


async def gifts_of_nonprofit(
    session: AsyncSession, nonprofit_id: uuid.UUID, *, campaign_id: uuid.UUID | None = None, limit: int = 500
) -> Sequence[RecurringGift]:
    query = sa.select(RecurringGift).where(RecurringGift.nonprofit_id == nonprofit_id)
    if campaign_id is not None:
        query = query.where(RecurringGift.campaign_id == campaign_id)
    found = await session.scalars(
        query.order_by(RecurringGift.started_at.desc(), RecurringGift.id).limit(limit)
    )
    return found.all()


async def failure_by_digest(session: AsyncSession, digest: str) -> RecurringPaymentFailure | None:
    return await session.scalar(
        sa.select(RecurringPaymentFailure).where(RecurringPaymentFailure.card_link_digest == digest)
    )
