"""Taking paid matched money back: a reversal of the match's transfer, or else a receivable.

The rule (one, so the ledger and the program counters agree): the pool gets a clawback back
when its reversal SETTLES, i.e. when a verified `transfer.reversed` webhook confirms it, or
when Stripe refuses it and the amount becomes a receivable the nonprofit owes (netted against
its next payout). Until then nothing is posted and `recovered_minor` does not move; the
request is a `PayoutReversal` row in the outbox. Settling posts, once, under the program and
match locks: `pool.claw_back` (pool <- nonprofit matches) and then either the reversal
(matches_transferred -> matches) or the receivable (program receivables -> matches).

Amounts are absolute: a clawback asks for "this much taken back in all", and only the part
not yet asked for becomes a new reversal, so replayed and reordered refund events produce
exactly one reversal per refund. A reversal never asks Stripe for more than the transfer has
left (a netted payout moved less than the match); the rest is a receivable from the start.

A paid match with no transfer of ours (paid outside the payout flow) is clawed back in the
ledger at once, as before payouts existed: there is nothing to reverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.matching import pool
from campaigns.matching.journal import note
from campaigns.matching.models import Match, MatchingProgram
from campaigns.payouts import bookkeeping, causes, repository
from campaigns.payouts.models import (
    Payout,
    PayoutReversal,
    PayoutStatus,
    ReversalKind,
    ReversalStatus,
)
from service.unit_of_work import UnitOfWork

SETTLED = frozenset({ReversalStatus.REVERSED, ReversalStatus.RECEIVABLE})


async def request_clawback(
    session: UnitOfWork, program: MatchingProgram, match: Match, *, total_minor: int, reason: str
) -> bool:
    """Ask for `total_minor` back in all; False when the match has no transfer to reverse.

    The caller holds the program's and the match's locks (the engine's webhook path).
    """
    payout = await repository.payout_of_match(session, match.id)
    if payout is None or payout.status is not PayoutStatus.PAID:
        return False
    reversals = await repository.reversals_of_payout(session, payout.id)
    asked = sum(r.amount_minor for r in reversals if r.kind is ReversalKind.CLAWBACK)
    more = total_minor - asked
    if more <= 0:
        return True
    cause = await causes.resolve(
        session, donation_id=match.donation_id, taken={r.cause for r in reversals}, fallback=reason
    )
    reversal = await open_reversal(
        session, payout, reversals, kind=ReversalKind.CLAWBACK, cause=cause, amount_minor=more
    )
    note(
        session,
        match,
        action="match.clawback_requested",
        before=match.status,
        note=reason,
        extra_after={"reversal_minor": more, "cause": cause},
    )
    if reversal.status is ReversalStatus.RECEIVABLE:
        await settle_reversal(session, program, match, reversal, reversed_by_stripe=False, now=session.now())
    return True


async def open_reversal(
    session: AsyncSession,
    payout: Payout,
    earlier: Sequence[PayoutReversal],
    *,
    kind: ReversalKind,
    cause: str,
    amount_minor: int,
) -> PayoutReversal:
    """A new reversal row; what the transfer no longer has is a receivable from the start."""
    left = max(payout.transfer_minor - sum(r.stripe_minor for r in earlier), 0)
    unreversable = max(amount_minor - left, 0)
    reversal = PayoutReversal(
        payout_id=payout.id,
        match_id=payout.match_id,
        program_id=payout.program_id,
        nonprofit_id=payout.nonprofit_id,
        currency=payout.currency,
        kind=kind,
        cause=cause,
        idempotency_key=bookkeeping.reversal_key(payout.match_id, cause),
        amount_minor=amount_minor,
        receivable_minor=unreversable,
        open_receivable_minor=0,
        status=ReversalStatus.RECEIVABLE if unreversable == amount_minor else ReversalStatus.QUEUED,
        attempts=0,
    )
    session.add(reversal)
    await session.flush()
    return reversal


async def settle_reversal(
    session: UnitOfWork,
    program: MatchingProgram,
    match: Match,
    reversal: PayoutReversal,
    *,
    reversed_by_stripe: bool,
    now: datetime,
) -> None:
    """Post a reversal once: confirmed by Stripe, or refused (all of it becomes a receivable).

    The caller holds the program, match and reversal locks.
    """
    if reversal.settled_at is not None:
        return
    if not reversed_by_stripe:
        reversal.receivable_minor = reversal.amount_minor
    if reversal.kind is ReversalKind.CLAWBACK:
        before = {"recovered_minor": match.recovered_minor}
        await pool.claw_back(
            session, program, match, total_minor=match.recovered_minor + reversal.amount_minor
        )
        note(
            session,
            match,
            action="match.clawed_back",
            before=match.status,
            note=f"{reversal.cause}: reversed {reversal.stripe_minor},"
            f" receivable {reversal.receivable_minor}",
            extra_before=before,
            extra_after={"recovered_minor": match.recovered_minor},
        )
    await bookkeeping.book_reversal(
        session,
        match_id=match.id,
        cause=reversal.cause,
        nonprofit_id=reversal.nonprofit_id,
        amount_minor=reversal.stripe_minor,
        currency=reversal.currency,
        donation_id=match.donation_id,
    )
    await bookkeeping.book_receivable(
        session,
        match_id=match.id,
        cause=reversal.cause,
        nonprofit_id=reversal.nonprofit_id,
        program_id=reversal.program_id,
        amount_minor=reversal.receivable_minor,
        currency=reversal.currency,
        donation_id=match.donation_id,
    )
    reversal.open_receivable_minor = reversal.receivable_minor
    reversal.status = ReversalStatus.REVERSED if reversal.stripe_minor > 0 else ReversalStatus.RECEIVABLE
    reversal.settled_at = now
    reversal.next_attempt_at = None
