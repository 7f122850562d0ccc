"""The fundraisers export (#15): one row per supporter's page, with what it raised and how many
distinct donors it brought, counted as the leaderboard counts them (campaigns.fundraising).

- Each campaign's tally is counted once per download, when its first row is read, and kept for
  the download's later pages (TallyingReader): counting walks all of a campaign's gifts, so
  counting again per page of 500 rows would repeat that walk, and every row of one campaign
  is counted as of the same moment, so its numbers add up.
- An address not confirmed yet (`confirmed_at` unset) is left blank: anyone can type any
  address into the start form, and the nonprofit must not receive one nobody has verified.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.exports.csvfile import Amount
from campaigns.exports.schemas import ExportQuery
from campaigns.exports.spec import Column, Export, Position, after_position
from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser, FundraiserStatus, FundraiserTeam
from campaigns.nonprofits.models import Nonprofit


class FundraiserExportQuery(ExportQuery):
    campaign_id: uuid.UUID | None = None
    status: FundraiserStatus | None = None


@dataclass(frozen=True)
class FundraiserRow:
    fundraiser: Fundraiser
    campaign_title: str
    nonprofit_name: str
    team_name: str | None
    tally: fundraising.Tally


async def _page_rows(
    session: AsyncSession,
    *,
    filters: FundraiserExportQuery,
    nonprofit_id: uuid.UUID | None,
    after: Position | None,
    limit: int,
) -> list[tuple[Fundraiser, str, str, str | None]]:
    query = (
        sa.select(Fundraiser, Campaign.title, Nonprofit.name, FundraiserTeam.name)
        .join(Campaign, Campaign.id == Fundraiser.campaign_id)
        .join(Nonprofit, Nonprofit.id == Fundraiser.nonprofit_id)
        .outerjoin(FundraiserTeam, FundraiserTeam.id == Fundraiser.team_id)
    )
    if nonprofit_id is not None:
        query = query.where(Fundraiser.nonprofit_id == nonprofit_id)
    if filters.campaign_id is not None:
        query = query.where(Fundraiser.campaign_id == filters.campaign_id)
    if filters.status is not None:
        query = query.where(Fundraiser.status == filters.status)
    if filters.since is not None:
        query = query.where(Fundraiser.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Fundraiser.created_at < filters.until)
    query = after_position(query, Fundraiser.created_at, Fundraiser.id, after).limit(limit)
    return [(f, title, name, team) for f, title, name, team in await session.execute(query)]


class TallyingReader:
    """One download's page reader: each campaign's tally counted at its first row, then kept."""

    def __init__(self) -> None:
        self._tallies: dict[uuid.UUID, fundraising.CampaignTally] = {}

    async def __call__(
        self,
        session: AsyncSession,
        *,
        filters: FundraiserExportQuery,
        nonprofit_id: uuid.UUID | None,
        after: Position | None,
        limit: int,
    ) -> Sequence[FundraiserRow]:
        found = await _page_rows(
            session, filters=filters, nonprofit_id=nonprofit_id, after=after, limit=limit
        )
        for f in {row[0].campaign_id: row[0] for row in found}.values():
            if f.campaign_id not in self._tallies:
                # The same counting as the leaderboard and the dashboard.
                self._tallies[f.campaign_id] = await fundraising.totals_of(
                    session, campaign_id=f.campaign_id, nonprofit_id=f.nonprofit_id
                )
        return [
            FundraiserRow(f, title, name, team, self._tallies[f.campaign_id].of_fundraiser(f.id))
            for f, title, name, team in found
        ]


async def fetch_page(
    session: AsyncSession,
    *,
    filters: FundraiserExportQuery,
    nonprofit_id: uuid.UUID | None,
    after: Position | None,
    limit: int,
) -> Sequence[FundraiserRow]:
    """One page on its own (a download reads through a TallyingReader instead)."""
    return await TallyingReader()(
        session, filters=filters, nonprofit_id=nonprofit_id, after=after, limit=limit
    )


def _money(minor: int | None, row: FundraiserRow) -> Amount | None:
    return None if minor is None else Amount(minor, row.fundraiser.currency)


COLUMNS: tuple[Column[FundraiserRow], ...] = (
    Column("fundraiser_id", lambda r: str(r.fundraiser.id)),
    Column("created_at", lambda r: r.fundraiser.created_at),
    Column("nonprofit_id", lambda r: str(r.fundraiser.nonprofit_id), admin_only=True),
    Column("nonprofit", lambda r: r.nonprofit_name, admin_only=True),
    Column("campaign_id", lambda r: str(r.fundraiser.campaign_id)),
    Column("campaign", lambda r: r.campaign_title),
    Column("slug", lambda r: r.fundraiser.slug),
    Column("status", lambda r: r.fundraiser.status.value),
    Column("name", lambda r: r.fundraiser.name),
    Column("email", lambda r: r.fundraiser.email if r.fundraiser.confirmed_at is not None else None),
    Column("title", lambda r: r.fundraiser.title),
    Column("team", lambda r: r.team_name),
    Column("goal", lambda r: _money(r.fundraiser.goal_minor, r)),
    Column("raised", lambda r: _money(r.tally.raised_minor, r)),
    Column("currency", lambda r: r.fundraiser.currency.upper()),
    Column("distinct_donors", lambda r: r.tally.donors),
    Column("flagged", lambda r: bool(r.fundraiser.screen_flags)),
    Column("confirmed_at", lambda r: r.fundraiser.confirmed_at),
    Column("approved_at", lambda r: r.fundraiser.approved_at),
    Column("hidden_at", lambda r: r.fundraiser.hidden_at),
    Column("ended_at", lambda r: r.fundraiser.ended_at),
)

EXPORT: Export[FundraiserExportQuery, FundraiserRow] = Export(
    name="fundraisers",
    columns=COLUMNS,
    fetch_page=fetch_page,
    position=lambda r: Position(r.fundraiser.created_at, r.fundraiser.id),
    new_reader=TallyingReader,
)
