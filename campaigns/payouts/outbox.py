"""The payout outbox, run by the worker: Stripe Transfers for approved matches, and reversals.

Each row goes through three short transactions and one network call between them, never
inside one: (1) claim it under its locks (program, match, row; rows another worker holds are
skipped), freeze what Stripe will be sent and take a lease; (2) call Stripe with the row's
deterministic idempotency key (`match:{id}:transfer`, `match:{id}:reversal:{cause}`), so a retry
after a timeout or a crash can never move money twice; (3) record the answer. A transient
failure (network, 5xx, rate limit) is retried with capped exponential backoff, forever and
visibly (`attempts`, `last_error`); Stripe refusing a transfer marks the payout failed (an
admin sees it in the payouts list); Stripe refusing a reversal turns it into a receivable.
Money is only recorded as moved by the verified webhooks (`campaigns.payouts.confirm`).

A nonprofit without a payout-ready account (payouts not enabled, or no account) accrues a
payable instead; the worker queues it once `account.updated` makes the account ready.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
import stripe
from sqlalchemy.ext.asyncio import AsyncSession
from stripe import RequestOptions
from stripe.params import TransferCreateParams, TransferReversalCreateParams

from campaigns.matching import pool
from campaigns.matching.journal import note
from campaigns.matching.models import Match, MatchingProgram, MatchStatus
from campaigns.nonprofits.models import Nonprofit
from campaigns.payouts import bookkeeping, clawbacks, confirm, repository
from campaigns.payouts.models import Payout, PayoutReversal, PayoutStatus, ReversalStatus
from service.db import Database, insert_for
from service.logging import get_logger
from service.settings import load_settings
from service.stripe_gateway import create_client, request_options
from service.unit_of_work import UnitOfWork
from service.worker import Job

log = get_logger("goodloop.payouts")

BATCH = 50
LEASE = timedelta(minutes=5)
"""How long a claimed row is left alone (the Stripe call and the answer fit well inside)."""
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30) * (1 << min(max(attempts - 1, 0), 10)), MAX_BACKOFF)


def _options(idempotency_key: str) -> RequestOptions:
    return cast(RequestOptions, request_options(idempotency_key))


def is_permanent(error: stripe.StripeError) -> bool:
    """Stripe looked at the request and said no (as opposed to: could not answer)."""
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return False
    return error.http_status in (400, 402, 404)


def payout_ready(nonprofit: Nonprofit) -> bool:
    return bool(nonprofit.payouts_enabled and nonprofit.stripe_account_id)


async def run(database: Database, client: stripe.StripeClient, *, now: datetime | None = None) -> int:
    """One pass: queue what became payable, then send due payouts and reversals."""
    at = now or database.clock.now()
    async with database.transaction() as session:
        done = await queue_payouts(session, now=at)
        done += await confirm.confirm_reviewed(session, now=at)
        payout_ids = await repository.due_payout_ids(session, now=at, limit=BATCH)
        reversal_ids = await repository.due_reversal_ids(session, now=at, limit=BATCH)
    for payout_id in payout_ids:
        done += await send_payout(database, client, payout_id, now=at)
    for reversal_id in reversal_ids:
        done += await send_reversal(database, client, reversal_id, now=at)
    return done


async def queue_payouts(session: AsyncSession, *, now: datetime, limit: int = 500) -> int:
    """A payout row for every approved match past its hold; payables whose account got ready."""
    rows = (
        await session.execute(
            sa.select(Match, Nonprofit)
            .join(Nonprofit, Nonprofit.id == Match.nonprofit_id)
            .outerjoin(Payout, Payout.match_id == Match.id)
            .where(
                Match.status == MatchStatus.APPROVED,
                Match.hold_until <= now,
                Match.amount_minor > 0,
                Payout.id.is_(None),
            )
            .order_by(Match.hold_until, Match.id)
            .limit(limit)
        )
    ).all()
    for match, nonprofit in rows:
        await session.execute(
            insert_for(session, Payout)
            .values(
                id=uuid.uuid4(),
                match_id=match.id,
                program_id=match.program_id,
                nonprofit_id=match.nonprofit_id,
                donation_id=match.donation_id,
                currency=match.currency,
                amount_minor=match.amount_minor,
                netted_minor=0,
                netting={},
                status=PayoutStatus.QUEUED if payout_ready(nonprofit) else PayoutStatus.PAYABLE,
                idempotency_key=bookkeeping.transfer_key(match.id),
                transfer_group=f"donation:{match.donation_id}" if match.donation_id else f"match:{match.id}",
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["match_id"])
        )
    # A payable (or a payout not tried yet) whose match left `approved` (voided, or back in
    # review) is owed nothing now: nothing reached Stripe, so the row goes, and an appeal or
    # approval later queues a fresh one.
    undecided = sa.select(Match.id).where(Match.status != MatchStatus.APPROVED)
    await session.execute(
        sa.delete(Payout).where(
            Payout.status.in_([PayoutStatus.PAYABLE, PayoutStatus.QUEUED]),
            Payout.attempts == 0,
            Payout.match_id.in_(undecided),
        )
    )
    ready = sa.select(Nonprofit.id).where(
        Nonprofit.payouts_enabled.is_(True), Nonprofit.stripe_account_id.is_not(None)
    )
    released = await session.execute(
        sa.update(Payout)
        .where(Payout.status == PayoutStatus.PAYABLE, Payout.nonprofit_id.in_(ready))
        .values(status=PayoutStatus.QUEUED, next_attempt_at=None, updated_at=now)
    )
    return len(rows) + int(getattr(released, "rowcount", 0) or 0)


@dataclass(frozen=True)
class _Call:
    """What one Stripe request carries, frozen in the row before the first attempt."""

    params: dict[str, Any]
    idempotency_key: str
    transfer_id: str | None = None


async def _send(
    database: Database,
    *,
    claim: Callable[[UnitOfWork], Awaitable[_Call | None]],
    call_stripe: Callable[[_Call], Awaitable[str]],
    sent: Callable[[UnitOfWork, str], Awaitable[None]],
    failed: Callable[[UnitOfWork, stripe.StripeError], Awaitable[None]],
) -> int:
    """The outbox's one shape for a payout's transfer and a reversal alike: claim the row in one
    transaction, call Stripe outside any, record the answer (the object's id, or the error) in a
    third. Returns 1 when Stripe was called."""
    async with database.transaction() as session:
        call = await claim(session)
    if call is None:
        return 0
    try:
        stripe_id = await call_stripe(call)
    except stripe.StripeError as e:
        async with database.transaction() as session:
            await failed(session, e)
        return 1
    async with database.transaction() as session:
        await sent(session, stripe_id)
    return 1


def _failure_message(error: stripe.StripeError) -> str:
    return f"{type(error).__name__}: {error.user_message or error}"[:2000]


async def send_payout(
    database: Database, client: stripe.StripeClient, payout_id: uuid.UUID, *, now: datetime
) -> int:
    async def create(call: _Call) -> str:
        transfer = await client.v1.transfers.create_async(
            cast(TransferCreateParams, call.params), options=_options(call.idempotency_key)
        )
        return transfer.id

    async def sent(session: UnitOfWork, transfer_id: str) -> None:
        payout = await repository.lock_payout(session, payout_id)
        assert payout is not None
        if payout.stripe_transfer_id is None:
            payout.stripe_transfer_id = transfer_id
        if payout.status is PayoutStatus.SENDING:
            payout.status = PayoutStatus.SENT
            payout.last_error = None

    async def failed(session: UnitOfWork, error: stripe.StripeError) -> None:
        await _payout_failed(session, payout_id, error=error, now=now)

    async def claim(session: UnitOfWork) -> _Call | None:
        return await _claim_payout(session, payout_id, now=now)

    return await _send(database, claim=claim, call_stripe=create, sent=sent, failed=failed)


async def _lock_chain(
    session: AsyncSession, *, program_id: uuid.UUID, match_id: uuid.UUID
) -> tuple[MatchingProgram, Match] | None:
    program = await pool.lock_program(session, program_id)
    match = await repository.lock_match(session, match_id)
    if program is None or match is None:
        return None
    return program, match


async def _claim_payout(session: UnitOfWork, payout_id: uuid.UUID, *, now: datetime) -> _Call | None:
    """Lock program, match and payout (in the order every path uses); freeze it on its first try."""
    seen = await session.get(Payout, payout_id)
    if seen is None:
        return None
    chain = await _lock_chain(session, program_id=seen.program_id, match_id=seen.match_id)
    payout = await repository.lock_payout(session, payout_id, skip_locked=True)
    if chain is None or payout is None or payout.status not in repository.DUE_PAYOUTS:
        return None
    if payout.next_attempt_at is not None and payout.next_attempt_at > now:
        return None
    program, match = chain
    if payout.attempts == 0 and not await _freeze(session, payout, match):
        return None
    if payout.transfer_minor == 0:
        # Netting settled it all: nothing to send, so nothing for a webhook to confirm.
        await confirm.confirm_payout(session, program, match, payout, now=now)
        return None
    payout.status = PayoutStatus.SENDING
    payout.attempts += 1
    payout.next_attempt_at = now + LEASE
    assert payout.destination is not None
    return _Call(
        idempotency_key=payout.idempotency_key,
        params={
            "amount": payout.transfer_minor,
            "currency": payout.currency,
            "destination": payout.destination,
            "transfer_group": payout.transfer_group,
            "description": f"Matched funds for match {payout.match_id}",
            "metadata": {
                "match_id": str(payout.match_id),
                "payout_id": str(payout.id),
                "program_id": str(payout.program_id),
                "netted_minor": str(payout.netted_minor),
            },
        },
    )


async def _freeze(session: AsyncSession, payout: Payout, match: Match) -> bool:
    """Before the first attempt: the match's worth now, the destination, receivables netted."""
    nonprofit = await repository.get_nonprofit(session, payout.nonprofit_id)
    assert nonprofit is not None
    if match.status is not MatchStatus.APPROVED or match.amount_minor <= 0:
        # Voided, or back with people, before anything reached Stripe: nothing is owed now;
        # an appeal or an approval later queues a fresh payout.
        await session.delete(payout)
        return False
    if not payout_ready(nonprofit):
        payout.status = PayoutStatus.PAYABLE
        return False
    payout.amount_minor = match.amount_minor
    payout.destination = nonprofit.stripe_account_id
    netting: dict[str, int] = {}
    room = payout.amount_minor
    for receivable in await repository.open_receivables(
        session, nonprofit_id=payout.nonprofit_id, currency=payout.currency
    ):
        take = min(room, receivable.open_receivable_minor)
        if take <= 0:
            break
        receivable.open_receivable_minor -= take
        netting[str(receivable.id)] = take
        room -= take
    payout.netting = netting
    payout.netted_minor = payout.amount_minor - room
    return True


async def _payout_failed(
    session: AsyncSession, payout_id: uuid.UUID, *, error: stripe.StripeError, now: datetime
) -> None:
    payout = await repository.lock_payout(session, payout_id)
    assert payout is not None
    message = _failure_message(error)
    payout.last_error = message
    if payout.status is not PayoutStatus.SENDING:
        return
    if not is_permanent(error):
        payout.next_attempt_at = now + backoff(payout.attempts)
        log.warning("payout transfer will be retried", payout=str(payout.id), error=message)
        return
    payout.status = PayoutStatus.FAILED
    payout.next_attempt_at = None
    # What was kept back for receivables is owed again: nothing moved.
    for reversal_id, amount in payout.netting.items():
        receivable = await repository.lock_reversal(session, uuid.UUID(reversal_id))
        if receivable is not None:
            receivable.open_receivable_minor += amount
    payout.netting = {}
    payout.netted_minor = 0
    match = await session.get(Match, payout.match_id)
    if match is not None:
        note(session, match, action="match.payout_failed", before=match.status, note=message)
    log.error("payout transfer refused by Stripe", payout=str(payout.id), error=message)


async def send_reversal(
    database: Database, client: stripe.StripeClient, reversal_id: uuid.UUID, *, now: datetime
) -> int:
    async def create(call: _Call) -> str:
        assert call.transfer_id is not None  # claim passes on no call without one
        made = await client.v1.transfers.reversals.create_async(
            call.transfer_id,
            cast(TransferReversalCreateParams, call.params),
            options=_options(call.idempotency_key),
        )
        return made.id

    async def sent(session: UnitOfWork, stripe_reversal_id: str) -> None:
        reversal = await repository.lock_reversal(session, reversal_id)
        assert reversal is not None
        if reversal.stripe_reversal_id is None:
            reversal.stripe_reversal_id = stripe_reversal_id
        if reversal.status is ReversalStatus.SENDING:
            reversal.status = ReversalStatus.SENT
            reversal.last_error = None

    async def failed(session: UnitOfWork, error: stripe.StripeError) -> None:
        await _reversal_failed(session, reversal_id, error=error, now=now)

    async def claim(session: UnitOfWork) -> _Call | None:
        call = await _claim_reversal(session, reversal_id, now=now)
        return call if call is not None and call.transfer_id is not None else None

    return await _send(database, claim=claim, call_stripe=create, sent=sent, failed=failed)


async def _claim_reversal(session: AsyncSession, reversal_id: uuid.UUID, *, now: datetime) -> _Call | None:
    seen = await session.get(PayoutReversal, reversal_id)
    if seen is None:
        return None
    chain = await _lock_chain(session, program_id=seen.program_id, match_id=seen.match_id)
    reversal = await repository.lock_reversal(session, reversal_id, skip_locked=True)
    if chain is None or reversal is None or reversal.status not in repository.DUE_REVERSALS:
        return None
    if reversal.next_attempt_at is not None and reversal.next_attempt_at > now:
        return None
    payout = await session.get(Payout, reversal.payout_id)
    assert payout is not None and payout.stripe_transfer_id is not None
    reversal.status = ReversalStatus.SENDING
    reversal.attempts += 1
    reversal.next_attempt_at = now + LEASE
    return _Call(
        idempotency_key=reversal.idempotency_key,
        transfer_id=payout.stripe_transfer_id,
        params={
            "amount": reversal.stripe_minor,
            "description": f"{reversal.kind} of match {reversal.match_id}: {reversal.cause}",
            "metadata": {
                "reversal_id": str(reversal.id),
                "match_id": str(reversal.match_id),
                "cause": reversal.cause,
            },
        },
    )


async def _reversal_failed(
    session: UnitOfWork, reversal_id: uuid.UUID, *, error: stripe.StripeError, now: datetime
) -> None:
    seen = await session.get(PayoutReversal, reversal_id)
    assert seen is not None
    chain = await _lock_chain(session, program_id=seen.program_id, match_id=seen.match_id)
    reversal = await repository.lock_reversal(session, reversal_id)
    assert chain is not None and reversal is not None
    message = _failure_message(error)
    reversal.last_error = message
    if reversal.status is not ReversalStatus.SENDING:
        return
    if not is_permanent(error):
        reversal.next_attempt_at = now + backoff(reversal.attempts)
        log.warning("transfer reversal will be retried", reversal=str(reversal.id), error=message)
        return
    program, match = chain
    await clawbacks.settle_reversal(session, program, match, reversal, reversed_by_stripe=False, now=now)
    log.warning(
        "transfer reversal refused; recorded as a receivable", reversal=str(reversal.id), error=message
    )


def job(client: stripe.StripeClient | None = None) -> Job:
    """The worker job; without a client (`goodloop worker`), one is made from the environment."""
    holder: list[stripe.StripeClient] = [client] if client is not None else []

    async def pay_out(database: Database) -> int:
        if not holder:
            holder.append(create_client(load_settings()))
        return await run(database, holder[0])

    return Job("pay_out_matches", pay_out, timedelta(seconds=5))
