"""The donations export: one row per donation, in the order they were created.

Its row shape is shared: the fundraiser donations export (campaigns.exports.fundraiser_donations)
reads the same donation columns, filtered the same way, with the page's columns in between
(`donation_columns`, `where_donations`), so a gift reads the same in both files.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar, TypeVarTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation, DonationStatus
from campaigns.exports.csvfile import Amount
from campaigns.exports.schemas import DonationExportQuery
from campaigns.exports.spec import Column, Export, Position, after_position
from campaigns.nonprofits.models import Nonprofit
from campaigns.sharing.models import ShareLink


class DonationShaped(Protocol):
    """What a row of a donation-per-row export carries (read-only)."""

    @property
    def donation(self) -> Donation: ...
    @property
    def campaign_title(self) -> str: ...
    @property
    def nonprofit_name(self) -> str: ...


ShapedT = TypeVar("ShapedT", bound=DonationShaped)
Cols = TypeVarTuple("Cols")


@dataclass(frozen=True)
class DonationRow:
    donation: Donation
    campaign_title: str
    nonprofit_name: str
    referral_code: str | None
    referral_channel: str | None


class DonationFilters(Protocol):
    """The filters every donation export takes (its query model has these fields)."""

    @property
    def campaign_id(self) -> uuid.UUID | None: ...
    @property
    def status(self) -> DonationStatus | None: ...
    @property
    def since(self) -> datetime | None: ...
    @property
    def until(self) -> datetime | None: ...


def where_donations(
    query: sa.Select[*Cols], filters: DonationFilters, *, nonprofit_id: uuid.UUID | None
) -> sa.Select[*Cols]:
    """`filters` (and the organisation's scope) on the Donation in `query`."""
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
    return query


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
    query = where_donations(query, filters, nonprofit_id=nonprofit_id)
    query = after_position(query, Donation.created_at, Donation.id, after).limit(limit)
    rows = await session.execute(query)
    return [DonationRow(d, title, name, code, channel) for d, title, name, code, channel in rows]


def _unless_anonymous(value: str | None, row: DonationShaped) -> str | None:
    # A donor who asked to stay anonymous is anonymous in every file that leaves the platform.
    return None if row.donation.anonymous else value


def _money(minor: int, row: DonationShaped) -> Amount:
    return Amount(minor, row.donation.currency)


def donation_columns(
    row_type: type[ShapedT], *, after_campaign: Sequence[Column[ShapedT]] = ()
) -> tuple[Column[ShapedT], ...]:
    """The donation's columns, with an export's own (`after_campaign`) after the campaign's.

    `row_type` only tells the type checker which rows the columns read.
    """
    del row_type
    return (
        Column("donation_id", lambda r: str(r.donation.id)),
        Column("created_at", lambda r: r.donation.created_at),
        Column("confirmed_at", lambda r: r.donation.confirmed_at),
        Column("nonprofit_id", lambda r: str(r.donation.nonprofit_id), admin_only=True),
        Column("nonprofit", lambda r: r.nonprofit_name, admin_only=True),
        Column("campaign_id", lambda r: str(r.donation.campaign_id)),
        Column("campaign", lambda r: r.campaign_title),
        *after_campaign,
        Column("amount", lambda r: _money(r.donation.amount_minor, r)),
        Column("fee_cover", lambda r: _money(r.donation.fee_cover_minor, r)),
        Column("refunded", lambda r: _money(r.donation.refunded_minor, r)),
        Column("currency", lambda r: r.donation.currency.upper()),
        Column("status", lambda r: r.donation.status.value),
        Column("anonymous", lambda r: r.donation.anonymous),
        Column("donor_name", lambda r: _unless_anonymous(r.donation.donor_name, r)),
        Column("donor_email", lambda r: _unless_anonymous(r.donation.donor_email, r)),
    )


COLUMNS: tuple[Column[DonationRow], ...] = (
    *donation_columns(DonationRow),
    Column("referral_code", lambda r: r.referral_code),
    Column("referral_channel", lambda r: r.referral_channel),
)

EXPORT: Export[DonationExportQuery, DonationRow] = Export(
    name="donations",
    columns=COLUMNS,
    fetch_page=fetch_page,
    position=lambda r: Position(r.donation.created_at, r.donation.id),
)
