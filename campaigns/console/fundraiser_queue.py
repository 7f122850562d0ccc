"""What moderators review among supporters' pages (#15): pages visitors reported (not ended), pages
the keyword screen flagged that are public anyway, and pages taken down (hidden), each with its
campaign, organisation and open reports. Reads only: a decision closes a page's reports through
the fundraising service (campaigns.fundraising.decisions.close_reports)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from campaigns.moderation.models import CampaignReport
from campaigns.nonprofits.models import Nonprofit

LIMIT = 50


@dataclass(frozen=True)
class PageItem:
    fundraiser: Fundraiser
    campaign: Campaign
    nonprofit: Nonprofit
    reports: list[CampaignReport]


@dataclass(frozen=True)
class Queue:
    reported: list[PageItem]
    flagged: list[PageItem]
    hidden: list[PageItem]


async def review_queue(session: AsyncSession) -> Queue:
    reports = await _open_reports(session)
    reported_ids = sorted(reports, key=lambda fid: (-len(reports[fid]), str(fid)))[:LIMIT]
    reported = await _pages(session, sa.true(), ids=reported_ids)
    # Flagged pages are public only because their nonprofit approved them: a second look.
    flagged = await _pages(
        session,
        # json_array_length: the same function on PostgreSQL (json) and SQLite (JSON1).
        sa.and_(
            Fundraiser.status == FundraiserStatus.LIVE, sa.func.json_array_length(Fundraiser.screen_flags) > 0
        ),
    )
    hidden = await _pages(session, Fundraiser.status == FundraiserStatus.HIDDEN)

    def items(rows: list[tuple[Fundraiser, Campaign, Nonprofit]], skip: set[uuid.UUID]) -> list[PageItem]:
        return [PageItem(f, c, n, reports.get(f.id, [])) for f, c, n in rows if f.id not in skip]

    shown = {f.id for f, _, _ in reported}
    by_id = {f.id: (f, c, n) for f, c, n in reported}
    ordered = [by_id[fid] for fid in reported_ids if fid in by_id]
    return Queue(
        reported=items(ordered, set()),
        flagged=items(flagged, shown),
        hidden=items(hidden, shown | {f.id for f, _, _ in flagged}),
    )


async def _open_reports(session: AsyncSession) -> dict[uuid.UUID, list[CampaignReport]]:
    # An ended page is closed for good: nothing is left to decide, so its reports (a stale tab's
    # late report, or one left open before ending closed them) must not hold a place in the queue.
    rows = await session.scalars(
        sa.select(CampaignReport)
        .join(Fundraiser, Fundraiser.id == CampaignReport.fundraiser_id)
        .where(CampaignReport.resolved_at.is_(None), Fundraiser.status != FundraiserStatus.ENDED)
        .order_by(CampaignReport.created_at.desc(), CampaignReport.id)
        .limit(1000)
    )
    found: dict[uuid.UUID, list[CampaignReport]] = defaultdict(list)
    for report in rows:
        if report.fundraiser_id is not None:
            found[report.fundraiser_id].append(report)
    return found


async def _pages(
    session: AsyncSession, condition: sa.ColumnElement[bool], *, ids: list[uuid.UUID] | None = None
) -> list[tuple[Fundraiser, Campaign, Nonprofit]]:
    query = (
        sa.select(Fundraiser, Campaign, Nonprofit)
        .join(Campaign, Campaign.id == Fundraiser.campaign_id)
        .join(Nonprofit, Nonprofit.id == Fundraiser.nonprofit_id)
        .where(condition)
        .order_by(Fundraiser.created_at.desc(), Fundraiser.id)
        .limit(LIMIT)
    )
    if ids is not None:
        if not ids:
            return []
        query = query.where(Fundraiser.id.in_(ids))
    return [(f, c, n) for f, c, n in (await session.execute(query)).all()]
