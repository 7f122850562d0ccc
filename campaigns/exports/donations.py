"""The donations export: one row per donation, in the order they were created."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation
from campaigns.exports.csvfile import Amount
from campaigns.exports.schemas import DonationExportQuery
from campaigns.exports.spec import Column, Export, Position, after_position
from campaigns.nonprofits.models import Nonprofit
from campaigns.sharing.models import ShareLink


@dataclass(frozen=True)
class DonationRow:
    donation: Donation
    campaign_title: str
    nonprofit_name: str
    referral_code: str | None
    referral_channel: str | None


async def fetch_page(
    session: AsyncSession,
    *,
    filters: DonationExportQuery,
    nonprofit_id: uuid.UUID | None,
    after: Position | None,
    limit: int,
) -> Sequence[DonationRow]:
    query = (
        sa.select(Donation, Campaign.title, Nonprofit.name, ShareLink.code, ShareLink.channel)
        .join(Campaign, Campaign.id == Donation.campaign_id)
        .join(Nonprofit, Nonprofit.id == Donation.nonprofit_id)
        .outerjoin(ShareLink, ShareLink.id == Donation.referral_link_id)
    )
    if nonprofit_id is not None:
        query = query.where(Donation.nonprofit_id == nonprofit_id)
    if filters.campaign_id is not None:
        query = query.where(Donation.campaign_id == filters.campaign_id)
    if filters.status is not None:
        query = query.where(Donation.status == filters.status)
    if filters.since is not None:
        query = query.where(Donation.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Donation.created_at < filters.until)
    query = after_position(query, Donation.created_at, Donation.id, after).limit(limit)
    rows = await session.execute(query)
    return [DonationRow(d, title, name, code, channel) for d, title, name, code, channel in rows]


def _donor_name(row: DonationRow) -> str | None:
    # A donor who asked to stay anonymous is anonymous in every file that leaves the platform.
    return None if row.donation.anonymous else row.donation.donor_name


def _donor_email(row: DonationRow) -> str | None:
    return None if row.donation.anonymous else row.donation.donor_email


def _money(minor: int, row: DonationRow) -> Amount:
    return Amount(minor, row.donation.currency)


COLUMNS: tuple[Column[DonationRow], ...] = (
    Column("donation_id", lambda r: str(r.donation.id)),
    Column("created_at", lambda r: r.donation.created_at),
    Column("confirmed_at", lambda r: r.donation.confirmed_at),
    Column("nonprofit_id", lambda r: str(r.donation.nonprofit_id), admin_only=True),
    Column("nonprofit", lambda r: r.nonprofit_name, admin_only=True),
    Column("campaign_id", lambda r: str(r.donation.campaign_id)),
    Column("campaign", lambda r: r.campaign_title),
    Column("amount", lambda r: _money(r.donation.amount_minor, r)),
    Column("fee_cover", lambda r: _money(r.donation.fee_cover_minor, r)),
    Column("refunded", lambda r: _money(r.donation.refunded_minor, r)),
    Column("currency", lambda r: r.donation.currency.upper()),
    Column("status", lambda r: r.donation.status.value),
    Column("anonymous", lambda r: r.donation.anonymous),
    Column("donor_name", _donor_name),
    Column("donor_email", _donor_email),
    Column("referral_code", lambda r: r.referral_code),
    Column("referral_channel", lambda r: r.referral_channel),
)

EXPORT: Export[DonationExportQuery, DonationRow] = Export(
    name="donations",
    columns=COLUMNS,
    fetch_page=fetch_page,
    position=lambda r: Position(r.donation.created_at, r.donation.id),
)
