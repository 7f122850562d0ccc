"""Named queries for receipts, their counters and tax profiles; no rules, never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.receipts.models import Receipt, ReceiptCounter, ReceiptKind, TaxProfile
from service.db import insert_for
from service.pagination import after_cursor


async def get_tax_profile(session: AsyncSession, nonprofit_id: uuid.UUID) -> TaxProfile | None:
    return await session.get(TaxProfile, nonprofit_id)


async def get_receipt(session: AsyncSession, receipt_id: uuid.UUID) -> Receipt | None:
    return await session.get(Receipt, receipt_id)


async def original_receipt(session: AsyncSession, donation_id: uuid.UUID) -> Receipt | None:
    """The receipt a confirmed donation got (a donation has at most one)."""
    found = await session.scalars(
        sa.select(Receipt)
        .where(Receipt.donation_id == donation_id, Receipt.kind == ReceiptKind.RECEIPT)
        .limit(1)
    )
    return found.first()


async def receipts_for_email(session: AsyncSession, email: str) -> list[Receipt]:
    """Every numbered receipt sent to `email`, across nonprofits, newest first."""
    rows = await session.scalars(
        sa.select(Receipt)
        .where(Receipt.donor_email == email.strip().lower(), Receipt.number.is_not(None))
        .order_by(Receipt.issued_at.desc(), Receipt.year.desc(), Receipt.number.desc())
    )
    return list(rows)


async def receipts_for_donations(session: AsyncSession, donation_ids: Sequence[uuid.UUID]) -> list[Receipt]:
    if not donation_ids:
        return []
    rows = await session.scalars(
        sa.select(Receipt)
        .where(Receipt.donation_id.in_(donation_ids), Receipt.number.is_not(None))
        .order_by(Receipt.issued_at, Receipt.year, Receipt.number)
    )
    return list(rows)


async def unnumbered_receipts(session: AsyncSession) -> list[Receipt]:
    """The unit's receipts still waiting for a number (only its own: other transactions' rows
    are numbered before they commit), receipts before corrections, in the order issued."""
    await session.flush()
    rows = await session.scalars(
        sa.select(Receipt)
        .where(Receipt.number.is_(None))
        .order_by(Receipt.nonprofit_id, Receipt.year, Receipt.kind.desc(), Receipt.issued_at, Receipt.id)
    )
    return list(rows)


async def take_numbers(session: AsyncSession, *, nonprofit_id: uuid.UUID, year: int, count: int) -> int:
    """Reserve `count` numbers for (nonprofit, year); returns the last one (the first is
    `last - count + 1`). The upsert locks the counter row until the unit ends, so concurrent
    units queue here and a rolled-back unit gives its numbers back."""
    last = await session.scalar(
        insert_for(session, ReceiptCounter)
        .values(nonprofit_id=nonprofit_id, year=year, last_number=count)
        .on_conflict_do_update(
            index_elements=[ReceiptCounter.nonprofit_id, ReceiptCounter.year],
            set_={"last_number": ReceiptCounter.last_number + count},
        )
        .returning(ReceiptCounter.last_number)
    )
    assert last is not None
    return int(last)


async def list_receipts(
    session: AsyncSession, *, nonprofit_id: uuid.UUID, year: int | None, limit: int, cursor: str | None
) -> list[Receipt]:
    """One nonprofit's numbered receipts in the order issued; one row more than `limit` (paging)."""
    query = sa.select(Receipt).where(Receipt.nonprofit_id == nonprofit_id, Receipt.number.is_not(None))
    if year is not None:
        query = query.where(Receipt.year == year)
    rows = await session.scalars(after_cursor(query, Receipt.issued_at, Receipt.id, cursor).limit(limit + 1))
    return list(rows)
