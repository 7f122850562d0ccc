"""Read-only queries behind the verification and moderation queues (one query per list, not per row)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.nonprofits.models import Member, Nonprofit


async def members_of(
    session: AsyncSession, nonprofit_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Member]]:
    if not nonprofit_ids:
        return {}
    query = (
        sa.select(Member).where(Member.nonprofit_id.in_(nonprofit_ids)).order_by(Member.created_at, Member.id)
    )
    out: dict[uuid.UUID, list[Member]] = defaultdict(list)
    for member in (await session.scalars(query)).all():
        out[member.nonprofit_id].append(member)
    return dict(out)


async def campaign_counts(session: AsyncSession, nonprofit_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not nonprofit_ids:
        return {}
    query = (
        sa.select(Campaign.nonprofit_id, sa.func.count(Campaign.id))
        .where(Campaign.nonprofit_id.in_(nonprofit_ids))
        .group_by(Campaign.nonprofit_id)
    )
    return {nonprofit_id: int(n) for nonprofit_id, n in (await session.execute(query)).all()}


async def nonprofits_by_id(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Nonprofit]:
    if not ids:
        return {}
    rows = await session.scalars(sa.select(Nonprofit).where(Nonprofit.id.in_(ids)))
    return {n.id: n for n in rows.all()}


async def campaigns_by_id(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Campaign]:
    if not ids:
        return []
    rows = await session.scalars(
        sa.select(Campaign).where(Campaign.id.in_(ids)).order_by(Campaign.created_at)
    )
    return list(rows.all())


async def campaigns_paused_by_moderators(session: AsyncSession, *, limit: int) -> list[Campaign]:
    query = (
        sa.select(Campaign)
        .where(Campaign.status == CampaignStatus.PAUSED, Campaign.admin_pause_reason.is_not(None))
        .order_by(Campaign.updated_at.desc(), Campaign.id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
