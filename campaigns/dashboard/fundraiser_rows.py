"""What the dashboard's fundraiser pages show: each page with its campaign, team and numbers.

Reads only. Tenant isolation comes from the fundraising service (`list_for_nonprofit`,
`get_for_actor`); the lookups here are by ids those calls already returned, and each is
narrowed to the member's organisation as well, so a mistake upstream cannot leak a name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import SETTLED, Donation, DonationStatus
from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser, FundraiserStatus, FundraiserTeam
from campaigns.moderation.models import CampaignReport
from service.web.messages import N_

STATUS_LABELS: dict[FundraiserStatus, str] = {
    FundraiserStatus.PENDING_EMAIL: N_("Waiting for email"),
    FundraiserStatus.PENDING_APPROVAL: N_("Waiting for approval"),
    FundraiserStatus.LIVE: N_("Live"),
    FundraiserStatus.HIDDEN: N_("Hidden"),
    FundraiserStatus.ENDED: N_("Ended"),
}
"""What each status is called on the page (the filter and the badge)."""
DONATION_STATUS_LABELS: dict[DonationStatus, str] = {
    DonationStatus.PENDING: N_("not paid yet"),
    DonationStatus.PROCESSING: N_("processing"),
    DonationStatus.CONFIRMED: N_("received"),
    DonationStatus.FAILED: N_("failed"),
    DonationStatus.EXPIRED: N_("not completed"),
    DonationStatus.REFUNDED: N_("refunded"),
    DonationStatus.PARTIALLY_REFUNDED: N_("partly refunded"),
    DonationStatus.DISPUTED: N_("disputed"),
}


@dataclass(frozen=True)
class FundraiserRow:
    fundraiser: Fundraiser
    campaign: Campaign
    team: FundraiserTeam | None
    tally: fundraising.Tally
    open_reports: int = 0
    """Visitors' reports about the page that no moderator has closed yet (how many, not who)."""


@dataclass(frozen=True)
class GiftRow:
    donation: Donation
    donor: str
    """The donor as the nonprofit sees them (as in the API): the name, else the email address.
    A donor who gave anonymously is anonymous in public and in files that leave the platform,
    not to the nonprofit on its own dashboard; the page says they asked."""


async def rows_for(
    session: AsyncSession, *, nonprofit_id: uuid.UUID, fundraisers: Sequence[Fundraiser]
) -> list[FundraiserRow]:
    """Each page with its campaign, team and tally (one tally per campaign shown)."""
    campaign_ids = {f.campaign_id for f in fundraisers}
    campaigns = await _by_id(session, Campaign, nonprofit_id, campaign_ids)
    teams = await _by_id(session, FundraiserTeam, nonprofit_id, {f.team_id for f in fundraisers if f.team_id})
    reports = await _open_reports(session, [f.id for f in fundraisers])
    tallies = {
        cid: await fundraising.totals_of(session, campaign_id=cid, nonprofit_id=nonprofit_id)
        for cid in campaign_ids
    }
    return [
        FundraiserRow(
            fundraiser=f,
            campaign=campaigns[f.campaign_id],
            team=teams.get(f.team_id) if f.team_id else None,
            tally=tallies[f.campaign_id].of_fundraiser(f.id),
            open_reports=reports.get(f.id, 0),
        )
        for f in fundraisers
        if f.campaign_id in campaigns
    ]


def gift_rows(donations: Iterable[Donation]) -> list[GiftRow]:
    return [GiftRow(d, d.donor_name or d.donor_email or "") for d in donations]


def settled(gifts: Iterable[GiftRow]) -> list[GiftRow]:
    # One definition for every fundraiser total and count (the page, the leaderboard, the tallies
    # beside this list): a disputed gift is money the nonprofit may lose, so it counts nowhere.
    return [g for g in gifts if g.donation.status in SETTLED]


async def campaigns_of(session: AsyncSession, *, nonprofit_id: uuid.UUID) -> list[Campaign]:
    """The organisation's campaigns for the filter, those with peer-to-peer on first."""
    rows = await session.scalars(
        sa.select(Campaign)
        .where(Campaign.nonprofit_id == nonprofit_id)
        .order_by(Campaign.fundraisers_enabled.desc(), Campaign.created_at.desc())
        .limit(200)
    )
    return list(rows)


async def _open_reports(session: AsyncSession, fundraiser_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not fundraiser_ids:
        return {}
    rows = await session.execute(
        sa.select(CampaignReport.fundraiser_id, sa.func.count())
        .where(CampaignReport.fundraiser_id.in_(fundraiser_ids), CampaignReport.resolved_at.is_(None))
        .group_by(CampaignReport.fundraiser_id)
    )
    return {fid: int(n) for fid, n in rows.all() if fid is not None}


_Row = TypeVar("_Row", Campaign, FundraiserTeam)


async def _by_id(
    session: AsyncSession, model: type[_Row], nonprofit_id: uuid.UUID, ids: set[uuid.UUID]
) -> dict[uuid.UUID, _Row]:
    if not ids:
        return {}
    found = await session.scalars(
        sa.select(model).where(model.id.in_(ids), model.nonprofit_id == nonprofit_id)
    )
    return {row.id: row for row in found}
