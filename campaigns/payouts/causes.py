"""What caused a clawback: the refund or dispute whose id names the reversal's idempotency key.

The matching engine learns that a paid match must shrink from the donation's absolute state
(refunded in all, disputed), not from the event that moved it. The webhook layer names the
Stripe object it is applying (`naming_cause`), so the reversal gets `match:{id}:reversal:{re_...}`
or `...:{dp_...}`. When the state moved for another reason (a charge.refunded listing refunds
inline, a replay), the donation's newest refund or dispute in the ledger that no reversal of
this match names yet is taken; failing that, the donation's state ("refunded", "disputed").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from campaigns.donations import bookkeeping
from service.ledger import LedgerTransfer, flush_postings
from service.unit_of_work import UnitOfWork


@contextmanager
def naming_cause(session: UnitOfWork, cause: str | None) -> Iterator[None]:
    """While a webhook applies a refund or dispute, clawbacks it causes are named after it."""
    previous = session.clawback_cause
    session.clawback_cause = cause
    try:
        yield
    finally:
        session.clawback_cause = previous


async def resolve(
    session: UnitOfWork, *, donation_id: uuid.UUID | None, taken: set[str], fallback: str
) -> str:
    current = session.clawback_cause
    if current and current not in taken:
        return current[:100]
    if donation_id is not None:
        await flush_postings(session)
        keys = await session.scalars(
            sa.select(LedgerTransfer.idempotency_key)
            .where(
                LedgerTransfer.donation_id == donation_id,
                LedgerTransfer.code.in_([bookkeeping.Code.REFUND, bookkeeping.Code.DISPUTE_WITHDRAWN]),
            )
            .order_by(LedgerTransfer.created_at.desc(), LedgerTransfer.idempotency_key.desc())
        )
        for key in keys:
            cause = bookkeeping.refund_or_dispute_named_by(key)
            if cause is not None and cause not in taken:
                return cause[:100]
    cause = fallback
    n = 2
    while cause in taken:
        cause = f"{fallback}-{n}"
        n += 1
    return cause
