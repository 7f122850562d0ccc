"""`goodloop ledger check` for payouts: the ledger, the payout rows and the program counters agree.

One line per mismatch:
- per program, the finance figures (from the ledger) equal the pool counters, and the
  receivables account equals the receivables not yet netted plus those promised to payouts
  still in flight;
- every paid payout posted its transfer and its netting once, with the row's amounts, and
  nothing else posted any; every settled reversal posted its reversed and its receivable part;
- per nonprofit, the matches account holds only what was paid outside the payout flow less
  overpayments not yet settled, and the transferred account what transfers moved less what
  reversals took back.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.matching.models import Match, MatchingProgram, MatchStatus
from campaigns.matching.pool import matches_account
from campaigns.payouts import bookkeeping
from campaigns.payouts.finance import program_finance
from campaigns.payouts.models import Payout, PayoutReversal, PayoutStatus, ReversalKind, ReversalStatus
from service.ledger import LedgerTransfer, balance, flush_postings

IN_FLIGHT = (PayoutStatus.QUEUED, PayoutStatus.SENDING, PayoutStatus.SENT, PayoutStatus.TRANSFERRED)


async def check_payouts(session: AsyncSession) -> list[str]:
    await flush_postings(session)
    payouts = (await session.scalars(sa.select(Payout).order_by(Payout.id))).all()
    reversals = (await session.scalars(sa.select(PayoutReversal).order_by(PayoutReversal.id))).all()
    posted = await _posted_by_key(session)
    problems = await _check_programs(session, payouts, reversals)
    for payout in payouts:
        problems.extend(_check_payout(payout, posted))
    for reversal in reversals:
        problems.extend(_check_reversal(reversal, posted))
    problems.extend(await _check_nonprofits(session, payouts, reversals))
    return problems


async def _posted_by_key(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        sa.select(LedgerTransfer.idempotency_key, LedgerTransfer.amount_minor).where(
            LedgerTransfer.code.in_(
                [
                    bookkeeping.Code.TRANSFERRED,
                    bookkeeping.Code.NETTED,
                    bookkeeping.Code.REVERSED,
                    bookkeeping.Code.RECEIVABLE,
                ]
            )
        )
    )
    return {key: int(amount) for key, amount in rows}


async def _check_programs(
    session: AsyncSession, payouts: Sequence[Payout], reversals: Sequence[PayoutReversal]
) -> list[str]:
    owed: dict[uuid.UUID, int] = defaultdict(int)
    program_of = {r.id: r.program_id for r in reversals}
    for r in reversals:
        owed[r.program_id] += r.open_receivable_minor
    for p in payouts:
        if p.status in IN_FLIGHT:
            for reversal_id, amount in p.netting.items():
                owed[program_of[uuid.UUID(reversal_id)]] += amount
    problems: list[str] = []
    programs = (await session.scalars(sa.select(MatchingProgram).order_by(MatchingProgram.id))).all()
    for program in programs:
        figures = await program_finance(session, program)
        label = f"payouts of program {program.id}"
        for name, found, expected in (
            ("available", figures.available_minor, program.available_minor),
            ("held", figures.held_minor, program.held_minor),
            ("reserved + payable", figures.reserved_minor + figures.payable_minor, program.reserved_minor),
            ("paid", figures.paid_minor, program.paid_minor),
            ("clawed back", figures.clawed_back_minor, program.recovered_minor),
            ("returned", figures.returned_minor, program.returned_minor),
            ("receivable", figures.receivable_minor, owed[program.id]),
        ):
            if found != expected:
                problems.append(f"{label}: {name} {found} in the ledger != {expected}")
    return problems


def _check_payout(payout: Payout, posted: dict[str, int]) -> list[str]:
    label = f"payout {payout.id}"
    paid = payout.status is PayoutStatus.PAID
    problems: list[str] = []
    transferred = posted.get(bookkeeping.transfer_key(payout.match_id), 0)
    if transferred != (payout.transfer_minor if paid else 0):
        problems.append(
            f"{label} ({payout.status}): transfer posted {transferred}, row says {payout.transfer_minor}"
        )
    netted = sum(
        posted.get(bookkeeping.netting_key(payout.id, uuid.UUID(reversal_id)), 0)
        for reversal_id in payout.netting
    )
    if netted != (payout.netted_minor if paid else 0) or sum(payout.netting.values()) != payout.netted_minor:
        problems.append(f"{label} ({payout.status}): netting posted {netted}, row says {payout.netted_minor}")
    return problems


def _check_reversal(reversal: PayoutReversal, posted: dict[str, int]) -> list[str]:
    label = f"reversal {reversal.id} ({reversal.status})"
    settled = reversal.settled_at is not None
    reversed_part = posted.get(bookkeeping.reversal_key(reversal.match_id, reversal.cause), 0)
    receivable_part = posted.get(bookkeeping.receivable_key(reversal.match_id, reversal.cause), 0)
    problems: list[str] = []
    if settled != (reversal.status in (ReversalStatus.REVERSED, ReversalStatus.RECEIVABLE)):
        problems.append(f"{label}: settled_at and status disagree")
    if reversed_part != (reversal.stripe_minor if reversal.status is ReversalStatus.REVERSED else 0):
        problems.append(f"{label}: reversal posted {reversed_part}, row says {reversal.stripe_minor}")
    if receivable_part != (reversal.receivable_minor if settled else 0):
        problems.append(f"{label}: receivable posted {receivable_part}, row says {reversal.receivable_minor}")
    return problems


async def _check_nonprofits(
    session: AsyncSession, payouts: Sequence[Payout], reversals: Sequence[PayoutReversal]
) -> list[str]:
    paid_through_us = {p.match_id for p in payouts if p.status is PayoutStatus.PAID}
    keys: set[tuple[uuid.UUID, str]] = {(p.nonprofit_id, p.currency) for p in payouts}
    expected_matches: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    legacy = await session.execute(
        sa.select(
            Match.id, Match.nonprofit_id, Match.currency, Match.amount_minor, Match.recovered_minor
        ).where(Match.status == MatchStatus.PAID)
    )
    for match_id, nonprofit_id, currency, amount, recovered in legacy:
        keys.add((nonprofit_id, currency))
        if match_id not in paid_through_us:
            expected_matches[(nonprofit_id, currency)] += amount - recovered
    expected_transferred: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    for p in payouts:
        if p.status is PayoutStatus.PAID:
            expected_transferred[(p.nonprofit_id, p.currency)] += p.transfer_minor
    for r in reversals:
        if r.status is ReversalStatus.REVERSED:
            expected_transferred[(r.nonprofit_id, r.currency)] -= r.stripe_minor
        if r.kind is ReversalKind.OVERPAYMENT and r.settled_at is None:
            expected_matches[(r.nonprofit_id, r.currency)] -= r.amount_minor
    problems: list[str] = []
    for nonprofit_id, currency in sorted(keys, key=str):
        label = f"nonprofit {nonprofit_id} ({currency})"
        found = await balance(session, code=matches_account(nonprofit_id), currency=currency)
        if found != expected_matches[(nonprofit_id, currency)]:
            problems.append(
                f"{label}: matches account {found} != {expected_matches[(nonprofit_id, currency)]}"
            )
        found = await balance(session, code=bookkeeping.transferred_account(nonprofit_id), currency=currency)
        if found != expected_transferred[(nonprofit_id, currency)]:
            problems.append(
                f"{label}: transferred account {found} != {expected_transferred[(nonprofit_id, currency)]}"
            )
    return problems
