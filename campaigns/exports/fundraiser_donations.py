"""The fundraiser donations export (#15): one row per donation that came through a supporter's
page, with the page and the team it counted for at the time of giving."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation, DonationStatus
from campaigns.exports.csvfile import Amount
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
    if nonprofit_id is not None:
        query = query.where(Donation.nonprofit_id == nonprofit_id)
    if filters.campaign_id is not None:
        query = query.where(Donation.campaign_id == filters.campaign_id)
    if filters.fundraiser_id is not None:
        query = query.where(FundraiserDonation.fundraiser_id == filters.fundraiser_id)
    if filters.status is not None:
        query = query.where(Donation.status == filters.status)
    if filters.since is not None:
        query = query.where(Donation.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Donation.created_at < filters.until)
    query = after_position(query, Donation.created_at, Donation.id, after).limit(limit)
    rows = await session.execute(query)
    return [FundraiserDonationRow(d, f, title, name, team) for d, f, title, name, team in rows]


def _money(minor: int, row: FundraiserDonationRow) -> Amount:
    return Amount(minor, row.donation.currency)


def _hidden_if_anonymous(value: str | None, row: FundraiserDonationRow) -> str | None:
    # A donor who asked to stay anonymous is anonymous in every file that leaves the platform.
    return None if row.donation.anonymous else value


COLUMNS: tuple[Column[FundraiserDonationRow], ...] = (
    Column("donation_id", lambda r: str(r.donation.id)),
    Column("created_at", lambda r: r.donation.created_at),
    Column("confirmed_at", lambda r: r.donation.confirmed_at),
    Column("nonprofit_id", lambda r: str(r.donation.nonprofit_id), admin_only=True),
    Column("nonprofit", lambda r: r.nonprofit_name, admin_only=True),
    Column("campaign_id", lambda r: str(r.donation.campaign_id)),
    Column("campaign", lambda r: r.campaign_title),
    Column("fundraiser_id", lambda r: str(r.fundraiser.id)),
    Column("fundraiser", lambda r: r.fundraiser.name),
    Column("fundraiser_title", lambda r: r.fundraiser.title),
    Column("team", lambda r: r.team_name),
    Column("amount", lambda r: _money(r.donation.amount_minor, r)),
    Column("fee_cover", lambda r: _money(r.donation.fee_cover_minor, r)),
    Column("refunded", lambda r: _money(r.donation.refunded_minor, r)),
    Column("currency", lambda r: r.donation.currency.upper()),
    Column("status", lambda r: r.donation.status.value),
    Column("anonymous", lambda r: r.donation.anonymous),
    Column("donor_name", lambda r: _hidden_if_anonymous(r.donation.donor_name, r)),
    Column("donor_email", lambda r: _hidden_if_anonymous(r.donation.donor_email, r)),
)

EXPORT: Export[FundraiserDonationExportQuery, FundraiserDonationRow] = Export(
    name="fundraiser-donations",
    columns=COLUMNS,
    fetch_page=fetch_page,
    position=lambda r: Position(r.donation.created_at, r.donation.id),
)
