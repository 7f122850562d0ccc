"""Named queries of peer-to-peer fundraising. No rules, no commits."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.fundraising.models import Fundraiser, FundraiserStatus, FundraiserTeam
from campaigns.nonprofits.models import Nonprofit
from service.db import for_no_key_update


async def campaign_with_nonprofit(session: AsyncSession, *, slug: str) -> tuple[Campaign, Nonprofit] | None:
    row = (
        await session.execute(
            sa.select(Campaign, Nonprofit)
            .join(Nonprofit, Nonprofit.id == Campaign.nonprofit_id)
            .where(Campaign.slug == slug)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def get_fundraiser(
    session: AsyncSession, fundraiser_id: uuid.UUID, *, lock: bool = False
) -> Fundraiser | None:
    query = sa.select(Fundraiser).where(Fundraiser.id == fundraiser_id)
    if lock:
        query = for_no_key_update(query)
    return await session.scalar(query)


async def get_by_slug(
    session: AsyncSession, *, campaign_id: uuid.UUID, slug: str, lock: bool = False
) -> Fundraiser | None:
    query = sa.select(Fundraiser).where(Fundraiser.campaign_id == campaign_id, Fundraiser.slug == slug)
    if lock:
        query = for_no_key_update(query)
    return await session.scalar(query)


async def get_team(session: AsyncSession, *, campaign_id: uuid.UUID, slug: str) -> FundraiserTeam | None:
    return await session.scalar(
        sa.select(FundraiserTeam).where(
            FundraiserTeam.campaign_id == campaign_id, FundraiserTeam.slug == slug
        )
    )


async def get_team_by_id(session: AsyncSession, team_id: uuid.UUID) -> FundraiserTeam | None:
    return await session.get(FundraiserTeam, team_id)


async def teams_by_id(
    session: AsyncSession, team_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, FundraiserTeam]:
    if not team_ids:
        return {}
    rows = await session.scalars(sa.select(FundraiserTeam).where(FundraiserTeam.id.in_(set(team_ids))))
    return {t.id: t for t in rows}


async def live_members(session: AsyncSession, *, team_id: uuid.UUID) -> Sequence[Fundraiser]:
    return (
        await session.scalars(
            sa.select(Fundraiser)
            .where(Fundraiser.team_id == team_id, Fundraiser.status == FundraiserStatus.LIVE)
            .order_by(Fundraiser.created_at, Fundraiser.id)
        )
    ).all()


async def pages_of(session: AsyncSession, *, campaign_id: uuid.UUID, email: str) -> Sequence[Fundraiser]:
    return (
        await session.scalars(
            sa.select(Fundraiser)
            .where(
                Fundraiser.campaign_id == campaign_id,
                Fundraiser.email == email,
                Fundraiser.status != FundraiserStatus.PENDING_EMAIL,
            )
            .order_by(Fundraiser.created_at, Fundraiser.id)
        )
    ).all()


async def list_for_nonprofit(
    session: AsyncSession,
    *,
    nonprofit_id: uuid.UUID,
    campaign_id: uuid.UUID | None,
    status: FundraiserStatus | None,
    limit: int,
    offset: int,
) -> Sequence[Fundraiser]:
    query = sa.select(Fundraiser).where(Fundraiser.nonprofit_id == nonprofit_id)
    if campaign_id is not None:
        query = query.where(Fundraiser.campaign_id == campaign_id)
    if status is not None:
        query = query.where(Fundraiser.status == status)
    query = query.order_by(Fundraiser.created_at.desc(), Fundraiser.id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def recent_unconfirmed(
    session: AsyncSession, *, campaign_id: uuid.UUID, email: str, title: str, since: datetime
) -> Fundraiser | None:
    """The newest page still waiting for its email with this address and title, started since."""
    return await session.scalar(
        sa.select(Fundraiser)
        .where(
            Fundraiser.campaign_id == campaign_id,
            Fundraiser.email == email,
            Fundraiser.title == title,
            Fundraiser.status == FundraiserStatus.PENDING_EMAIL,
            Fundraiser.created_at >= since,
        )
        .order_by(Fundraiser.created_at.desc(), Fundraiser.id)
        .limit(1)
    )


async def serialise_starts(session: AsyncSession, *, campaign_id: uuid.UUID, email: str) -> None:
    """Until commit, one start at a time for an address in a campaign (PostgreSQL: a transaction
    advisory lock, taken before any row lock; SQLite's BEGIN IMMEDIATE already serialises)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"fundraiser-start:{campaign_id}:{email}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    await session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
