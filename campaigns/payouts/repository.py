"""Named queries for payouts and reversals: what is due, what a transfer is, what is owed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from campaigns.matching.models import Match
from campaigns.nonprofits.models import Nonprofit
from campaigns.payouts.models import Payout, PayoutReversal, PayoutStatus, ReversalStatus
from service.db import for_no_key_update, locked_rows
from service.pagination import after_cursor

DUE_PAYOUTS = (PayoutStatus.QUEUED, PayoutStatus.SENDING)
DUE_REVERSALS = (ReversalStatus.QUEUED, ReversalStatus.SENDING)


def _due(column: InstrumentedAttribute[datetime | None], now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(column.is_(None), column <= now)


async def due_payout_ids(session: AsyncSession, *, now: datetime, limit: int) -> list[uuid.UUID]:
    rows = await session.scalars(
        sa.select(Payout.id)
        .where(Payout.status.in_(DUE_PAYOUTS), _due(Payout.next_attempt_at, now))
        .order_by(Payout.created_at, Payout.id)
        .limit(limit)
    )
    return list(rows.all())


async def due_reversal_ids(session: AsyncSession, *, now: datetime, limit: int) -> list[uuid.UUID]:
    rows = await session.scalars(
        sa.select(PayoutReversal.id)
        .where(PayoutReversal.status.in_(DUE_REVERSALS), _due(PayoutReversal.next_attempt_at, now))
        .order_by(PayoutReversal.created_at, PayoutReversal.id)
        .limit(limit)
    )
    return list(rows.all())


async def lock_payout(
    session: AsyncSession, payout_id: uuid.UUID, *, skip_locked: bool = False
) -> Payout | None:
    """The payout row, locked (None if missing, or locked by another worker when skip_locked).

    After its program and match, before its reversals (docs/architecture.md, "Lock order").
    SQLite has no row locks; its one writer (BEGIN IMMEDIATE) serialises workers there.
    """
    await session.flush()
    query = sa.select(Payout).where(Payout.id == payout_id).execution_options(populate_existing=True)
    return await session.scalar(for_no_key_update(query, skip_locked=skip_locked))


async def lock_reversal(
    session: AsyncSession, reversal_id: uuid.UUID, *, skip_locked: bool = False
) -> PayoutReversal | None:
    await session.flush()
    query = (
        sa.select(PayoutReversal)
        .where(PayoutReversal.id == reversal_id)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(for_no_key_update(query, skip_locked=skip_locked))


async def payout_of_match(session: AsyncSession, match_id: uuid.UUID) -> Payout | None:
    return await session.scalar(sa.select(Payout).where(Payout.match_id == match_id))


async def transfer_was_sent(session: AsyncSession, match_id: uuid.UUID) -> bool:
    """Whether the match's one transfer went out (or may have: it is being sent)."""
    sent = (PayoutStatus.SENDING, PayoutStatus.SENT, PayoutStatus.TRANSFERRED, PayoutStatus.PAID)
    found = await session.scalar(
        sa.select(Payout.id).where(
            Payout.match_id == match_id,
            sa.or_(Payout.stripe_transfer_id.is_not(None), Payout.status.in_(sent)),
        )
    )
    return found is not None


async def payout_for_transfer(
    session: AsyncSession, *, match_id: uuid.UUID | None, stripe_transfer_id: str
) -> Payout | None:
    """Our payout behind a Stripe transfer: by the match id in its metadata, else by its id."""
    if match_id is not None:
        found = await payout_of_match(session, match_id)
        if found is not None:
            return found
    return await session.scalar(sa.select(Payout).where(Payout.stripe_transfer_id == stripe_transfer_id))


async def reversals_of_payout(
    session: AsyncSession, payout_id: uuid.UUID, *, lock: bool = False
) -> Sequence[PayoutReversal]:
    query = (
        sa.select(PayoutReversal)
        .where(PayoutReversal.payout_id == payout_id)
        .order_by(PayoutReversal.created_at, PayoutReversal.id)
    )
    return await locked_rows(session, query) if lock else (await session.scalars(query)).all()


async def reversal_keys(session: AsyncSession, match_id: uuid.UUID) -> set[str]:
    rows = await session.scalars(
        sa.select(PayoutReversal.idempotency_key).where(PayoutReversal.match_id == match_id)
    )
    return set(rows.all())


async def open_receivables(
    session: AsyncSession, *, nonprofit_id: uuid.UUID, currency: str
) -> Sequence[PayoutReversal]:
    """A nonprofit's receivables not yet netted, oldest first, locked (others' locks skipped)."""
    await session.flush()
    query = (
        sa.select(PayoutReversal)
        .where(
            PayoutReversal.nonprofit_id == nonprofit_id,
            PayoutReversal.currency == currency,
            PayoutReversal.open_receivable_minor > 0,
        )
        .order_by(PayoutReversal.settled_at, PayoutReversal.id)
        .execution_options(populate_existing=True)
    )
    # Skipped ones are netted against a later payout; nobody waits on anybody here.
    return (await session.scalars(for_no_key_update(query, skip_locked=True))).all()


async def list_payouts(
    session: AsyncSession,
    *,
    nonprofit_id: uuid.UUID | None = None,
    status: PayoutStatus | None = None,
    limit: int,
    cursor: str | None,
) -> list[Payout]:
    """Payouts oldest first (keyset pages); one more than `limit` tells there is a next page."""
    query = sa.select(Payout)
    if nonprofit_id is not None:
        query = query.where(Payout.nonprofit_id == nonprofit_id)
    if status is not None:
        query = query.where(Payout.status == status)
    query = after_cursor(query, Payout.created_at, Payout.id, cursor).limit(limit + 1)
    return list((await session.scalars(query)).all())


async def lock_match(session: AsyncSession, match_id: uuid.UUID) -> Match | None:
    """The match, locked after its program (the order every matching path uses)."""
    found = await locked_rows(session, sa.select(Match).where(Match.id == match_id))
    return found[0] if found else None


async def get_nonprofit(session: AsyncSession, nonprofit_id: uuid.UUID) -> Nonprofit | None:
    return await session.get(Nonprofit, nonprofit_id)
