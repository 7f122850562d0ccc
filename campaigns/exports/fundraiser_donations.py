"""The fundraiser donations export (#15): one row per donation that came through a supporter's
page, with the page and the team it counted for at the time of giving: the donations export's
row (campaigns.exports.donations.donation_columns) with the page's columns after the campaign's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation, DonationStatus
from campaigns.exports.donations import donation_columns, where_donations
from campaigns.exports.schemas import ExportQuery
from campaigns.exports.spec import Column, Export, Position, after_position
from campaigns.fundraising.models import Fundraiser, FundraiserDonation, FundraiserTeam
from campaigns.nonprofits.models import Nonprofit


class FundraiserDonationExportQuery(ExportQuery):
    campaign_id: uuid.UUID | None = None
    fundraiser_id: uuid.UUID | None = None
    status: DonationStatus | None = None


@dataclass(frozen=True)
class FundraiserDonationRow:
    donation: Donation
    fundraiser: Fundraiser
    campaign_title: str
    nonprofit_name: str
    team_name: str | None


async def fetch_page(
    session: AsyncSession,
    *,
    filters: FundraiserDonationExportQuery,
    nonprofit_id: uuid.UUID | None,
    after: Position | None,
    limit: int,
) -> Sequence[FundraiserDonationRow]:
    query = (
        sa.select(Donation, Fundraiser, Campaign.title, Nonprofit.name, FundraiserTeam.name)
        .join(FundraiserDonation, FundraiserDonation.donation_id == Donation.id)
        .join(Fundraiser, Fundraiser.id == FundraiserDonation.fundraiser_id)
        .join(Campaign, Campaign.id == Donation.campaign_id)
        .join(Nonprofit, Nonprofit.id == Donation.nonprofit_id)
        # The team the gift counted for when it was made, not the fundraiser's team today.
        .outerjoin(FundraiserTeam, FundraiserTeam.id == FundraiserDonation.team_id)
    )
    query = where_donations(query, filters, nonprofit_id=nonprofit_id)
    if filters.fundraiser_id is not None:
        query = query.where(FundraiserDonation.fundraiser_id == filters.fundraiser_id)
    query = after_position(query, Donation.created_at, Donation.id, after).limit(limit)
    rows = await session.execute(query)
    return [FundraiserDonationRow(d, f, title, name, team) for d, f, title, name, team in rows]


COLUMNS: tuple[Column[FundraiserDonationRow], ...] = donation_columns(
    FundraiserDonationRow,
    after_campaign=(
        Column("fundraiser_id", lambda r: str(r.fundraiser.id)),
        Column("fundraiser", lambda r: r.fundraiser.name),
        Column("fundraiser_title", lambda r: r.fundraiser.title),
        Column("team", lambda r: r.team_name),
    ),
)

EXPORT: Export[FundraiserDonationExportQuery, FundraiserDonationRow] = Export(
    name="fundraiser-donations",
    columns=COLUMNS,
    fetch_page=fetch_page,
    position=lambda r: Position(r.donation.created_at, r.donation.id),
)
