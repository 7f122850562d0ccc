"""`transfer.*` webhooks of our payouts: only a verified event says the money moved.

`transfer.created` (or any later event of the transfer) confirms the payout: the match
becomes paid (`lifecycle.record_payout` posts its reservation), the transfer and what was
netted are posted. If the match lost value while the transfer was in flight (a refund shrank
or voided it), the difference is an overpayment reversal. `transfer.reversed` lists the
transfer's reversals; each of ours (named in its metadata) settles once. Replays find
everything settled and change nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from campaigns.matching import lifecycle, pool
from campaigns.matching.journal import note
from campaigns.matching.models import Match, MatchingProgram, MatchStatus
from campaigns.payouts import announcements, bookkeeping, clawbacks, repository
from campaigns.payouts.models import Payout, PayoutReversal, PayoutStatus, ReversalKind, ReversalStatus
from service.logging import get_logger
from service.unit_of_work import UnitOfWork

log = get_logger("goodloop.payouts")

IN_FLIGHT = frozenset(
    {PayoutStatus.QUEUED, PayoutStatus.SENDING, PayoutStatus.SENT, PayoutStatus.TRANSFERRED}
)
UNDECIDED = frozenset({MatchStatus.PENDING, MatchStatus.HELD_FOR_REVIEW})
"""A match that went back to people (new risk facts) while its transfer was in flight."""
OVERPAID = "overpaid"


def _metadata_uuid(obj: dict[str, Any], key: str) -> uuid.UUID | None:
    metadata = obj.get("metadata")
    raw = metadata.get(key) if isinstance(metadata, dict) else None
    try:
        return uuid.UUID(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


async def record_transfer_event(session: UnitOfWork, *, transfer: dict[str, Any], now: datetime) -> bool:
    """Apply a transfer's absolute state to its payout; False when the transfer is not a payout of ours."""
    transfer_id = transfer.get("id")
    if not isinstance(transfer_id, str):
        return False
    found = await repository.payout_for_transfer(
        session, match_id=_metadata_uuid(transfer, "match_id"), stripe_transfer_id=transfer_id
    )
    if found is None:
        return False
    program = await pool.lock_program(session, found.program_id)
    match = await repository.lock_match(session, found.match_id)
    payout = await repository.lock_payout(session, found.id)
    assert program is not None and match is not None and payout is not None
    if payout.stripe_transfer_id is None:
        payout.stripe_transfer_id = transfer_id
    elif payout.stripe_transfer_id != transfer_id:
        log.error("a second transfer names a paid match", match=str(match.id), transfer=transfer_id)
        return True
    if payout.status in IN_FLIGHT and match.status in UNDECIDED:
        # The money moved, but whether the match stands is for a reviewer to say now: the
        # worker pays or reverses it once they have (confirm_reviewed).
        payout.status = PayoutStatus.TRANSFERRED
        return True
    if payout.status in IN_FLIGHT:
        await confirm_payout(session, program, match, payout, now=now)
    elif payout.status is not PayoutStatus.PAID:
        log.error("transfer for a payout we gave up on", payout=str(payout.id), status=str(payout.status))
        return True
    await _settle_listed_reversals(session, program, match, payout, transfer, now=now)
    return True


async def confirm_payout(
    session: UnitOfWork, program: MatchingProgram, match: Match, payout: Payout, *, now: datetime
) -> None:
    """The money moved: pay the match, post the transfer and the netting, reverse any excess."""
    if match.status is MatchStatus.APPROVED:
        await lifecycle.record_payout(session, match_id=match.id, at=now)
    posted = match.amount_minor if match.status is MatchStatus.PAID else 0
    await bookkeeping.book_transfer(
        session,
        match_id=match.id,
        nonprofit_id=payout.nonprofit_id,
        amount_minor=payout.transfer_minor,
        currency=payout.currency,
        donation_id=match.donation_id,
    )
    for reversal_id, amount in sorted(payout.netting.items()):
        receivable = await session.get(PayoutReversal, uuid.UUID(reversal_id))
        assert receivable is not None
        await bookkeeping.book_netting(
            session,
            payout_id=payout.id,
            reversal_id=receivable.id,
            nonprofit_id=payout.nonprofit_id,
            receivable_program_id=receivable.program_id,
            amount_minor=amount,
            currency=payout.currency,
        )
    payout.status = PayoutStatus.PAID
    payout.paid_at = now
    payout.next_attempt_at = None
    excess = payout.amount_minor - posted
    if excess > 0:
        await _reverse_excess(session, program, match, payout, excess_minor=excess, now=now)
    await announcements.announce_paid(session, payout)


async def _reverse_excess(
    session: UnitOfWork,
    program: MatchingProgram,
    match: Match,
    payout: Payout,
    *,
    excess_minor: int,
    now: datetime,
) -> None:
    earlier = await repository.reversals_of_payout(session, payout.id)
    reversal = await clawbacks.open_reversal(
        session, payout, earlier, kind=ReversalKind.OVERPAYMENT, cause=OVERPAID, amount_minor=excess_minor
    )
    note(
        session,
        match,
        action="match.overpayment_reversal_requested",
        before=match.status,
        note="the match lost value while its transfer was in flight",
        extra_after={"reversal_minor": excess_minor},
    )
    if reversal.status is ReversalStatus.RECEIVABLE:
        await clawbacks.settle_reversal(session, program, match, reversal, reversed_by_stripe=False, now=now)


async def _settle_listed_reversals(
    session: UnitOfWork,
    program: MatchingProgram,
    match: Match,
    payout: Payout,
    transfer: dict[str, Any],
    *,
    now: datetime,
) -> None:
    listed = transfer.get("reversals")
    data = listed.get("data") if isinstance(listed, dict) else None
    if not isinstance(data, list) or not data:
        return
    ours = await repository.reversals_of_payout(session, payout.id, lock=True)
    by_id = {r.id: r for r in ours}
    by_stripe_id = {r.stripe_reversal_id: r for r in ours if r.stripe_reversal_id is not None}
    for item in data:
        if not isinstance(item, dict):
            continue
        stripe_id = item.get("id")
        reversal = by_id.get(_metadata_uuid(item, "reversal_id") or uuid.UUID(int=0))
        if reversal is None and isinstance(stripe_id, str):
            reversal = by_stripe_id.get(stripe_id)
        if reversal is None or reversal.settled_at is not None:
            continue
        if reversal.stripe_reversal_id is None and isinstance(stripe_id, str):
            reversal.stripe_reversal_id = stripe_id
        await clawbacks.settle_reversal(session, program, match, reversal, reversed_by_stripe=True, now=now)


async def confirm_reviewed(session: UnitOfWork, *, now: datetime, limit: int = 100) -> int:
    """Transfers a webhook confirmed while their match was under review, now that it is decided."""
    rows = (
        await session.execute(
            sa.select(Payout.id, Payout.program_id, Payout.match_id)
            .join(Match, Match.id == Payout.match_id)
            .where(Payout.status == PayoutStatus.TRANSFERRED, Match.status.not_in(UNDECIDED))
            .order_by(Payout.created_at, Payout.id)
            .limit(limit)
        )
    ).all()
    # Every program first, in one statement (id order), as the webhook path locks them: two
    # transactions taking programs one by one in different orders could wait on each other.
    programs = await pool.lock_programs(session, (program_id for _, program_id, _ in rows))
    done = 0
    for payout_id, program_id, match_id in rows:
        program = programs.get(program_id)
        match = await repository.lock_match(session, match_id)
        payout = await repository.lock_payout(session, payout_id)
        assert program is not None and match is not None and payout is not None
        if payout.status is PayoutStatus.TRANSFERRED and match.status not in UNDECIDED:
            await confirm_payout(session, program, match, payout, now=now)
            done += 1
    return done
