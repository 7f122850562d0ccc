"""Named queries for the donor's path. No rules, no commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation, DonationStatus
from campaigns.nonprofits.models import Nonprofit
from service.db import for_no_key_update


@dataclass(frozen=True)
class Supporter:
    """What the public page may show of a donation: never an email, never a hash."""

    anonymous: bool
    name: str | None
    amount_minor: int
    currency: str
    message: str | None


async def get_campaign_with_nonprofit(session: AsyncSession, slug: str) -> tuple[Campaign, Nonprofit] | None:
    query = (
        sa.select(Campaign, Nonprofit)
        .join(Nonprofit, Nonprofit.id == Campaign.nonprofit_id)
        .where(Campaign.slug == slug)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row is not None else None


async def list_recent_supporters(
    session: AsyncSession, campaign_id: uuid.UUID, *, limit: int
) -> list[Supporter]:
    """Columns only (no ORM rows): one indexed query per page view."""
    query = (
        sa.select(
            Donation.anonymous,
            Donation.donor_name,
            Donation.amount_minor,
            Donation.currency,
            Donation.message,
        )
        .where(Donation.campaign_id == campaign_id, Donation.status == DonationStatus.CONFIRMED)
        .order_by(Donation.created_at.desc())
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [
        Supporter(
            anonymous=row.anonymous,
            name=row.donor_name,
            amount_minor=row.amount_minor,
            currency=row.currency,
            message=row.message,
        )
        for row in rows
    ]


async def get_donation(session: AsyncSession, donation_id: uuid.UUID) -> Donation | None:
    return await session.get(Donation, donation_id)


async def lock_donation(session: AsyncSession, donation_id: uuid.UUID) -> Donation | None:
    # The weakest lock that keeps writers out (docs/architecture.md, "Lock order").
    return await session.scalar(for_no_key_update(sa.select(Donation).where(Donation.id == donation_id)))
