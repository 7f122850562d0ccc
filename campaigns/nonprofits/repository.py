"""Named queries for nonprofits, members, invites and API keys. No rules, no commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.nonprofits.models import (
    ApiKey,
    Member,
    MemberInvite,
    Nonprofit,
    NonprofitStatus,
)
from service.pagination import after_cursor


async def get_nonprofit(session: AsyncSession, nonprofit_id: uuid.UUID) -> Nonprofit | None:
    return await session.get(Nonprofit, nonprofit_id)


async def lock_nonprofit(session: AsyncSession, nonprofit_id: uuid.UUID) -> Nonprofit | None:
    return await session.scalar(sa.select(Nonprofit).where(Nonprofit.id == nonprofit_id).with_for_update())


async def list_nonprofits(
    session: AsyncSession,
    *,
    status: NonprofitStatus | None,
    limit: int,
    cursor: str | None,
) -> list[Nonprofit]:
    """Up to limit + 1 rows, so the caller can tell whether another page exists."""
    query = sa.select(Nonprofit)
    if status is not None:
        query = query.where(Nonprofit.status == status)
    query = after_cursor(query, Nonprofit.created_at, Nonprofit.id, cursor).limit(limit + 1)
    return list((await session.scalars(query)).all())


async def get_member_by_email(session: AsyncSession, email: str) -> Member | None:
    return await session.scalar(sa.select(Member).where(Member.email == email))


async def get_member(session: AsyncSession, member_id: uuid.UUID) -> Member | None:
    return await session.get(Member, member_id)


async def list_members(session: AsyncSession, nonprofit_id: uuid.UUID) -> Sequence[Member]:
    query = sa.select(Member).where(Member.nonprofit_id == nonprofit_id).order_by(Member.created_at)
    return (await session.scalars(query)).all()


async def get_open_invite(session: AsyncSession, token_digest: str) -> MemberInvite | None:
    query = sa.select(MemberInvite).where(
        MemberInvite.token_digest == token_digest, MemberInvite.accepted_at.is_(None)
    )
    return await session.scalar(query.with_for_update())


async def list_api_keys(session: AsyncSession, nonprofit_id: uuid.UUID) -> Sequence[ApiKey]:
    query = sa.select(ApiKey).where(ApiKey.nonprofit_id == nonprofit_id).order_by(ApiKey.created_at.desc())
    return (await session.scalars(query)).all()


async def get_api_key(
    session: AsyncSession, *, nonprofit_id: uuid.UUID, api_key_id: uuid.UUID
) -> ApiKey | None:
    query = sa.select(ApiKey).where(ApiKey.id == api_key_id, ApiKey.nonprofit_id == nonprofit_id)
    return await session.scalar(query)


async def get_active_api_key_by_digest(session: AsyncSession, digest: str) -> ApiKey | None:
    query = sa.select(ApiKey).where(ApiKey.digest == digest, ApiKey.revoked_at.is_(None))
    return await session.scalar(query)
