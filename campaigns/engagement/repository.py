"""Named queries for engagement: the counter upsert and the aggregates behind a campaign's stats."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.models import SETTLED, Donation
from campaigns.engagement.models import EngagementCounter, Metric
from campaigns.matching.models import Match, MatchStatus
from campaigns.sharing.models import ShareLink
from service.db import insert_for

CounterKey = tuple[uuid.UUID, date, Metric]


async def campaign_ids_by_slug(session: AsyncSession, slugs: Iterable[str]) -> dict[str, uuid.UUID]:
    rows = await session.execute(sa.select(Campaign.slug, Campaign.id).where(Campaign.slug.in_(set(slugs))))
    return {slug: campaign_id for slug, campaign_id in rows}


async def add_counts(session: AsyncSession, counts: Mapping[CounterKey, int]) -> int:
    """Add each count to its (campaign, day, metric) row, creating rows that do not exist yet."""
    if not counts:
        return 0
    stmt = insert_for(session, EngagementCounter)
    stmt = stmt.on_conflict_do_update(
        index_elements=["campaign_id", "day", "metric"],
        set_={"count": EngagementCounter.count + stmt.excluded.count},
    )
    # Sorted, so processes flushing at the same time lock the rows in one order (no deadlock).
    rows = [
        {"campaign_id": campaign_id, "day": day, "metric": metric, "count": count}
        for (campaign_id, day, metric), count in sorted(counts.items(), key=lambda item: _sort_key(item[0]))
    ]
    await session.execute(stmt, rows)
    return len(rows)


def _sort_key(key: CounterKey) -> tuple[str, date, str]:
    return (str(key[0]), key[1], key[2].value)


async def metric_totals(session: AsyncSession, campaign_id: uuid.UUID) -> dict[Metric, int]:
    rows = await session.execute(
        sa.select(EngagementCounter.metric, sa.func.sum(EngagementCounter.count))
        .where(EngagementCounter.campaign_id == campaign_id)
        .group_by(EngagementCounter.metric)
    )
    return {Metric(metric): int(total) for metric, total in rows}


async def share_visits_by_channel(
    session: AsyncSession, campaign_id: uuid.UUID
) -> list[tuple[str | None, int]]:
    """(channel, visits) per channel; supporters' personal links have no channel (None)."""
    rows = await session.execute(
        sa.select(ShareLink.channel, sa.func.sum(ShareLink.visit_count))
        .where(ShareLink.campaign_id == campaign_id)
        .group_by(ShareLink.channel)
    )
    return [(channel, int(visits or 0)) for channel, visits in rows]


async def matched_by_status(session: AsyncSession, campaign_id: uuid.UUID) -> dict[MatchStatus, int]:
    rows = await session.execute(
        sa.select(Match.status, sa.func.sum(Match.amount_minor))
        .where(Match.campaign_id == campaign_id)
        .group_by(Match.status)
    )
    return {MatchStatus(status): int(total or 0) for status, total in rows}


async def settled_donation_counts(session: AsyncSession, campaign_id: uuid.UUID) -> tuple[int, int]:
    """(settled donations, distinct referred donors) for the campaign.

    A donor is a lowercased email, or the donation itself when it has no email (the rule of
    the campaign's donor_count); a referred donor gave at least once through a share link.
    """
    referred = Donation.referral_link_id.is_not(None)
    row = (
        await session.execute(
            sa.select(
                sa.func.count(Donation.id),
                sa.func.count(sa.distinct(sa.case((referred, sa.func.lower(Donation.donor_email))))),
                sa.func.coalesce(
                    sa.func.sum(sa.case((sa.and_(referred, Donation.donor_email.is_(None)), 1), else_=0)), 0
                ),
            ).where(Donation.campaign_id == campaign_id, Donation.status.in_(SETTLED))
        )
    ).one()
    return int(row[0]), int(row[1]) + int(row[2])
