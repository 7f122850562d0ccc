"""The nonprofit's reads for its API (#15): a page with its team and numbers, a campaign's teams.

Tenant isolation: pages come from `decisions.get_for_actor`/`list_for_nonprofit`, teams are
read only for a campaign the caller's organisation owns (checked by the caller through
campaigns.campaign.service.get_campaign) and narrowed to its nonprofit again here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import Donation
from campaigns.fundraising import reading, repository
from campaigns.fundraising.leaderboard import Tally
from campaigns.fundraising.models import Fundraiser, FundraiserDonation, FundraiserTeam


@dataclass(frozen=True)
class PageNumbers:
    fundraiser: Fundraiser
    team: FundraiserTeam | None
    tally: Tally


@dataclass(frozen=True)
class TeamNumbers:
    team: FundraiserTeam
    members: int
    tally: Tally


async def with_numbers(
    session: AsyncSession, *, nonprofit_id: uuid.UUID, fundraisers: Sequence[Fundraiser]
) -> list[PageNumbers]:
    """Each page with its team and its tally (one tally per campaign involved)."""
    team_ids = {f.team_id for f in fundraisers if f.team_id is not None}
    teams = await repository.teams_by_id(session, sorted(team_ids))
    tallies = {
        campaign_id: await reading.totals_of(session, campaign_id=campaign_id, nonprofit_id=nonprofit_id)
        for campaign_id in {f.campaign_id for f in fundraisers}
    }
    return [
        PageNumbers(
            fundraiser=f,
            team=teams.get(f.team_id) if f.team_id is not None else None,
            tally=tallies[f.campaign_id].of_fundraiser(f.id),
        )
        for f in fundraisers
    ]


async def teams_of(
    session: AsyncSession, *, nonprofit_id: uuid.UUID, campaign_id: uuid.UUID
) -> list[TeamNumbers]:
    """A campaign's teams, oldest first, with how many pages each has and their numbers."""
    members = (
        sa.select(Fundraiser.team_id, sa.func.count().label("members"))
        .where(Fundraiser.campaign_id == campaign_id, Fundraiser.team_id.is_not(None))
        .group_by(Fundraiser.team_id)
        .subquery()
    )
    rows = await session.execute(
        sa.select(FundraiserTeam, sa.func.coalesce(members.c.members, 0))
        .outerjoin(members, members.c.team_id == FundraiserTeam.id)
        .where(FundraiserTeam.campaign_id == campaign_id, FundraiserTeam.nonprofit_id == nonprofit_id)
        .order_by(FundraiserTeam.created_at, FundraiserTeam.id)
    )
    tally = await reading.totals_of(session, campaign_id=campaign_id, nonprofit_id=nonprofit_id)
    return [TeamNumbers(team, int(count), tally.of_team(team.id)) for team, count in rows]


async def donations_of(
    session: AsyncSession, *, fundraiser_id: uuid.UUID, limit: int, offset: int
) -> Sequence[Donation]:
    """Gifts through one page (any status), oldest first; the caller checked the page is its own."""
    rows = await session.scalars(
        sa.select(Donation)
        .join(FundraiserDonation, FundraiserDonation.donation_id == Donation.id)
        .where(FundraiserDonation.fundraiser_id == fundraiser_id)
        .order_by(Donation.created_at, Donation.id)
        .limit(limit)
        .offset(offset)
    )
    return rows.all()
