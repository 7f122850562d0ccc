"""What the public sees of pages and teams: only live pages of public campaigns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.errors import CampaignNotFound
from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.donations.models import SETTLED, Donation
from campaigns.fundraising import leaderboard, repository
from campaigns.fundraising.errors import FundraiserNotFound, TeamNotFound
from campaigns.fundraising.leaderboard import By, Entry, Milestone, Of, Tally
from campaigns.fundraising.models import Fundraiser, FundraiserDonation, FundraiserStatus, FundraiserTeam
from campaigns.nonprofits.models import Nonprofit
from campaigns.sharing.models import ShareLink
from service.i18n import N_

_NOT_PUBLIC = frozenset({CampaignStatus.DRAFT, CampaignStatus.IN_REVIEW})


@dataclass(frozen=True)
class FundraiserView:
    campaign: Campaign
    nonprofit: Nonprofit
    fundraiser: Fundraiser
    team: FundraiserTeam | None
    tally: Tally
    milestones: list[Milestone]
    share_code: str = ""
    """The code of the fundraiser's share link (`/s/{code}`, route sharing:follow)."""


@dataclass(frozen=True)
class TeamMember:
    fundraiser: Fundraiser
    tally: Tally


@dataclass(frozen=True)
class TeamView:
    campaign: Campaign
    nonprofit: Nonprofit
    team: FundraiserTeam
    tally: Tally
    members: list[TeamMember]


async def public_campaign(session: AsyncSession, *, campaign_slug: str) -> tuple[Campaign, Nonprofit]:
    """A public campaign with peer-to-peer on. Switching it off takes every page, team and board
    offline without touching their status, so switching it on again brings them back."""
    found = await repository.campaign_with_nonprofit(session, slug=campaign_slug)
    if found is None or found[0].status in _NOT_PUBLIC:
        raise CampaignNotFound(N_("There is no such campaign."))
    if not found[0].fundraisers_enabled:
        raise FundraiserNotFound(N_("There is no such fundraiser page."))
    return found


async def public_fundraiser(
    session: AsyncSession, *, campaign_slug: str, fundraiser_slug: str
) -> FundraiserView:
    """A live page with its numbers; FundraiserNotFound (404) for anything else."""
    campaign, nonprofit = await public_campaign(session, campaign_slug=campaign_slug)
    fundraiser = await repository.get_by_slug(session, campaign_id=campaign.id, slug=fundraiser_slug)
    if fundraiser is None or fundraiser.status is not FundraiserStatus.LIVE:
        raise FundraiserNotFound(N_("There is no such fundraiser page."))
    team = await repository.get_team_by_id(session, fundraiser.team_id) if fundraiser.team_id else None
    tally = (
        await leaderboard.tally_campaign(session, campaign_id=campaign.id, nonprofit_id=nonprofit.id)
    ).of_fundraiser(fundraiser.id)
    return FundraiserView(
        campaign=campaign,
        nonprofit=nonprofit,
        fundraiser=fundraiser,
        team=team,
        tally=tally,
        milestones=leaderboard.milestones(tally, goal_minor=fundraiser.goal_minor),
        share_code=await session.scalar(
            sa.select(ShareLink.code).where(ShareLink.id == fundraiser.share_link_id)
        )
        or "",
    )


async def public_team(session: AsyncSession, *, campaign_slug: str, team_slug: str) -> TeamView:
    """A team with at least one live page, its live members (by distinct donors) and totals."""
    campaign, nonprofit = await public_campaign(session, campaign_slug=campaign_slug)
    team = await repository.get_team(session, campaign_id=campaign.id, slug=team_slug)
    members = await repository.live_members(session, team_id=team.id) if team is not None else []
    if team is None or not members:
        raise TeamNotFound(N_("There is no such team."))
    tally = await leaderboard.tally_campaign(session, campaign_id=campaign.id, nonprofit_id=nonprofit.id)
    ranked = leaderboard.rank(members, tally.fundraisers, by="donors", limit=leaderboard.TOP)
    return TeamView(
        campaign=campaign,
        nonprofit=nonprofit,
        team=team,
        tally=tally.of_team(team.id),
        members=[
            TeamMember(fundraiser=e.subject, tally=e.tally)
            for e in ranked
            if isinstance(e.subject, Fundraiser)
        ],
    )


async def campaign_leaderboard(
    session: AsyncSession,
    *,
    campaign_slug: str,
    of: Of = "fundraisers",
    by: By = "donors",
    limit: int = leaderboard.TOP,
) -> tuple[Campaign, list[Entry]]:
    campaign, nonprofit = await public_campaign(session, campaign_slug=campaign_slug)
    entries = await leaderboard.leaderboard(
        session, campaign_id=campaign.id, nonprofit_id=nonprofit.id, of=of, by=by, limit=limit
    )
    return campaign, entries


async def recent_donations(
    session: AsyncSession, *, fundraiser_id: uuid.UUID, limit: int = 20
) -> Sequence[Donation]:
    """The page's settled gifts, newest first (the page shows them under the wall's rules:
    campaigns.giving.wall decides names, amounts and messages)."""
    return (
        await session.scalars(
            sa.select(Donation)
            .join(FundraiserDonation, FundraiserDonation.donation_id == Donation.id)
            .where(FundraiserDonation.fundraiser_id == fundraiser_id, Donation.status.in_(SETTLED))
            .order_by(Donation.confirmed_at.desc(), Donation.id)
            .limit(max(1, min(limit, 100)))
        )
    ).all()


async def totals_of(
    session: AsyncSession, *, campaign_id: uuid.UUID, nonprofit_id: uuid.UUID
) -> leaderboard.CampaignTally:
    """Every page's and team's numbers in one pass (the dashboard and exports)."""
    return await leaderboard.tally_campaign(session, campaign_id=campaign_id, nonprofit_id=nonprofit_id)
