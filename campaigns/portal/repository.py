"""The portal's named queries: a donor's gifts, found by email (case-insensitively), never by
anything the browser sends, so a donor only ever sees their own."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation, DonationStatus
from campaigns.nonprofits.models import Nonprofit
from campaigns.recurring.models import RecurringGift, RecurringInstallment

SHOWN_STATUSES = (
    DonationStatus.PROCESSING,
    DonationStatus.CONFIRMED,
    DonationStatus.PARTIALLY_REFUNDED,
    DonationStatus.REFUNDED,
    DonationStatus.DISPUTED,
)
"""Gifts that happened or are happening; abandoned and failed checkouts are not gifts."""
MAX_GIFTS = 500


@dataclass(frozen=True)
class GiftRow:
    donation_id: uuid.UUID
    campaign_title: str
    campaign_slug: str
    nonprofit_id: uuid.UUID
    nonprofit_name: str
    given_at: datetime
    amount_minor: int
    fee_cover_minor: int
    currency: str
    status: DonationStatus
    refunded_minor: int
    installment: int | None = None
    """Which payment of a recurring gift this is (1 for the first), None for a one-off gift."""
    interval: str | None = None
    """`month` or `year` for a recurring gift's payment."""


def _mine(email: str) -> sa.ColumnElement[bool]:
    return sa.func.lower(Donation.donor_email) == email


async def gifts_for_email(session: AsyncSession, *, email: str) -> Sequence[GiftRow]:
    """The donor's gifts across nonprofits, newest first."""
    rows = await session.execute(
        sa.select(
            Donation.id,
            Campaign.title,
            Campaign.slug,
            Nonprofit.id,
            Nonprofit.name,
            sa.func.coalesce(Donation.confirmed_at, Donation.created_at),
            Donation.amount_minor,
            Donation.fee_cover_minor,
            Donation.currency,
            Donation.status,
            Donation.refunded_minor,
            RecurringInstallment.number,
            RecurringGift.interval,
        )
        .join(Campaign, Campaign.id == Donation.campaign_id)
        .join(Nonprofit, Nonprofit.id == Donation.nonprofit_id)
        .outerjoin(RecurringInstallment, RecurringInstallment.donation_id == Donation.id)
        .outerjoin(RecurringGift, RecurringGift.id == RecurringInstallment.recurring_gift_id)
        .where(_mine(email), Donation.status.in_(SHOWN_STATUSES))
        .order_by(Donation.created_at.desc(), Donation.id)
        .limit(MAX_GIFTS)
    )
    return [
        GiftRow(
            donation_id=row[0],
            campaign_title=row[1],
            campaign_slug=row[2],
            nonprofit_id=row[3],
            nonprofit_name=row[4],
            given_at=row[5],
            amount_minor=row[6],
            fee_cover_minor=row[7],
            currency=row[8],
            status=row[9],
            refunded_minor=row[10],
            installment=row[11],
            interval=row[12].value if row[12] is not None else None,
        )
        for row in rows
    ]


async def owns_donation(session: AsyncSession, *, email: str, donation_id: uuid.UUID) -> bool:
    found = await session.scalar(sa.select(Donation.id).where(Donation.id == donation_id, _mine(email)))
    return found is not None


async def gives_to(session: AsyncSession, *, email: str, nonprofit_id: uuid.UUID) -> bool:
    found = await session.scalar(
        sa.select(Donation.id)
        .where(_mine(email), Donation.nonprofit_id == nonprofit_id, Donation.status.in_(SHOWN_STATUSES))
        .limit(1)
    )
    return found is not None
