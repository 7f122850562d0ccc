"""Use cases behind the payouts API: pages of payouts with their reversals, the finance view."""

from __future__ import annotations

import uuid
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.payouts import repository
from campaigns.payouts.finance import ProgramFinance, finance_summary
from campaigns.payouts.models import Payout, PayoutReversal, PayoutStatus

__all__ = ["PayoutPage", "ProgramFinance", "finance_summary", "list_payouts"]

PayoutPage = list[tuple[Payout, list[PayoutReversal]]]


async def list_payouts(
    session: AsyncSession,
    *,
    nonprofit_id: uuid.UUID | None,
    status: PayoutStatus | None,
    limit: int,
    cursor: str | None,
) -> PayoutPage:
    """Payouts oldest first with their reversals; one row more than `limit` when there is a next page."""
    payouts = await repository.list_payouts(
        session, nonprofit_id=nonprofit_id, status=status, limit=limit, cursor=cursor
    )
    by_payout: dict[uuid.UUID, list[PayoutReversal]] = defaultdict(list)
    if payouts:
        rows = await session.scalars(
            sa.select(PayoutReversal)
            .where(PayoutReversal.payout_id.in_([p.id for p in payouts]))
            .order_by(PayoutReversal.created_at, PayoutReversal.id)
        )
        for reversal in rows:
            by_payout[reversal.payout_id].append(reversal)
    return [(p, by_payout[p.id]) for p in payouts]
