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

from service.ledger import LedgerTransfer, flush_postings
from service.unit_of_work import UnitOfWork

_REFUND_CODE = "refund"
_DISPUTE_CODE = "dispute_withdrawn"


@contextmanager
def naming_cause(session: UnitOfWork, cause: str | None) -> Iterator[None]:
    """While a webhook applies a refund or dispute, clawbacks it causes are named after it."""
    previous = session.clawback_cause
    session.clawback_cause = cause
    try:
        yield
    finally:
        session.clawback_cause = previous


def _cause_of(key: str) -> str | None:
    # refund:{re}  and  dispute:{dp}:withdrawn  (campaigns.donations.bookkeeping)
    parts = key.split(":")
    if parts[0] == "refund" and len(parts) == 2:
        return parts[1]
    if parts[0] == "dispute" and len(parts) == 3:
        return parts[1]
    return None


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
                LedgerTransfer.code.in_([_REFUND_CODE, _DISPUTE_CODE]),
            )
            .order_by(LedgerTransfer.created_at.desc(), LedgerTransfer.idempotency_key.desc())
        )
        for key in keys:
            cause = _cause_of(key)
            if cause is not None and cause not in taken:
                return cause[:100]
    cause = fallback
    n = 2
    while cause in taken:
        cause = f"{fallback}-{n}"
        n += 1
    return cause
