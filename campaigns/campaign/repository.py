"""Named queries for campaigns. Every nonprofit-facing query is scoped to one nonprofit."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign, CampaignStatus
from service.db import for_no_key_update
from service.pagination import after_cursor


async def get_for_nonprofit(
    session: AsyncSession,
    *,
    nonprofit_id: uuid.UUID,
    campaign_id: uuid.UUID,
    lock: bool = False,
) -> Campaign | None:
    query = sa.select(Campaign).where(Campaign.id == campaign_id, Campaign.nonprofit_id == nonprofit_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def lock_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign | None:
    """For moderation (no key changes): FOR NO KEY UPDATE, which checkouts inserting donations
    (a key-share lock on this row) never wait on (docs/architecture.md, "Lock order")."""
    return await session.scalar(for_no_key_update(sa.select(Campaign).where(Campaign.id == campaign_id)))


async def get_by_slug(session: AsyncSession, slug: str) -> Campaign | None:
    return await session.scalar(sa.select(Campaign).where(Campaign.slug == slug))


async def list_for_nonprofit(
    session: AsyncSession,
    *,
    nonprofit_id: uuid.UUID,
    status: CampaignStatus | None,
    limit: int,
    cursor: str | None,
) -> list[Campaign]:
    """Up to limit + 1 rows, so the caller can tell whether another page exists."""
    query = sa.select(Campaign).where(Campaign.nonprofit_id == nonprofit_id)
    if status is not None:
        query = query.where(Campaign.status == status)
    query = after_cursor(query, Campaign.created_at, Campaign.id, cursor).limit(limit + 1)
    return list((await session.scalars(query)).all())


async def list_by_status(
    session: AsyncSession, *, status: CampaignStatus, limit: int, cursor: str | None
) -> list[Campaign]:
    query = sa.select(Campaign).where(Campaign.status == status)
    query = after_cursor(query, Campaign.created_at, Campaign.id, cursor).limit(limit + 1)
    return list((await session.scalars(query)).all())
