"""Named queries for share links and visits. No rules, no commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.sharing.models import ShareLink, ShareLinkKind, ShareVisit
from service.db import insert_for


async def get_link_and_slug(session: AsyncSession, code: str) -> tuple[ShareLink, str] | None:
    """The link and its campaign's slug in one round trip: /s/{code} is on the viral hot path."""
    query = (
        sa.select(ShareLink, Campaign.slug)
        .join(Campaign, Campaign.id == ShareLink.campaign_id)
        .where(ShareLink.code == code)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row is not None else None


async def get_link(session: AsyncSession, link_id: uuid.UUID) -> ShareLink | None:
    return await session.get(ShareLink, link_id)


async def get_link_by_code(session: AsyncSession, code: str) -> ShareLink | None:
    return await session.scalar(sa.select(ShareLink).where(ShareLink.code == code))


async def get_link_for_donation(session: AsyncSession, donation_id: uuid.UUID) -> ShareLink | None:
    return await session.scalar(sa.select(ShareLink).where(ShareLink.donation_id == donation_id))


async def insert_visit(
    session: AsyncSession, *, share_link_id: uuid.UUID, visitor_hash: str, window_start: datetime
) -> bool:
    """True when this visitor is new for the link in this window; the UNIQUE constraint decides."""
    stmt = (
        insert_for(session, ShareVisit)
        .values(
            id=uuid.uuid4(), share_link_id=share_link_id, visitor_hash=visitor_hash, window_start=window_start
        )
        .on_conflict_do_nothing(index_elements=["share_link_id", "visitor_hash", "window_start"])
        .returning(ShareVisit.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def count_visit(session: AsyncSession, share_link_id: uuid.UUID) -> None:
    await session.execute(
        sa.update(ShareLink)
        .where(ShareLink.id == share_link_id)
        .values(visit_count=ShareLink.visit_count + 1)
    )


async def insert_link(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    code: str,
    kind: ShareLinkKind,
    channel: str | None = None,
    donation_id: uuid.UUID | None = None,
    owner_email_digest: str | None = None,
) -> uuid.UUID | None:
    """Insert unless the code or the donation already has a link; returns the new id or None."""
    stmt = (
        insert_for(session, ShareLink)
        .values(
            id=uuid.uuid4(),
            campaign_id=campaign_id,
            code=code,
            kind=kind,
            channel=channel,
            donation_id=donation_id,
            owner_email_digest=owner_email_digest,
            visit_count=0,
        )
        .on_conflict_do_nothing()
        .returning(ShareLink.id)
    )
    new_id: uuid.UUID | None = (await session.execute(stmt)).scalar_one_or_none()
    return new_id


async def list_channel_links(session: AsyncSession, campaign_id: uuid.UUID) -> Sequence[ShareLink]:
    query = (
        sa.select(ShareLink)
        .where(ShareLink.campaign_id == campaign_id, ShareLink.kind == ShareLinkKind.CHANNEL)
        .order_by(ShareLink.created_at)
    )
    return (await session.scalars(query)).all()
