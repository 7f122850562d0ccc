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
        )
        .join(Campaign, Campaign.id == Donation.campaign_id)
        .join(Nonprofit, Nonprofit.id == Donation.nonprofit_id)
        .where(_mine(email), Donation.status.in_(SHOWN_STATUSES))
        .order_by(Donation.created_at.desc(), Donation.id)
        .limit(MAX_GIFTS)
    )
    return [GiftRow(*row) for row in rows]


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
