"""`goodloop ledger check` for matching: pools, their counters, matches and quotes must agree.

Per program, one line per mismatch:
- conservation: budget = available + held + reserved + paid - recovered + returned, none negative;
- the ledger: funded once with the budget; the pool account's balance is budget - paid +
  recovered - returned; open (unsettled) pending transfers out of the pool equal held (to
  quotes) and reserved (to nonprofits); posted reservations equal paid;
- the rows: held quotes sum to held, live unpaid matches to reserved, paid matches to paid,
  clawbacks to recovered;
- every phase-two transfer repeats its pending transfer's accounts and amount;
- the pool account's flagged balance (kept by the ledger at posting time, which refuses an
  overdraft) equals the counters: they are its cache.

Per campaign: its stored matched total equals a fresh count of its matches (campaigns.matching.totals).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from campaigns.campaign.models import Campaign
from campaigns.matching import pool, totals
from campaigns.matching.models import Match, MatchingProgram, MatchQuote, MatchStatus, QuoteStatus
from service.ledger import (
    LedgerAccount,
    LedgerTransfer,
    TransferKind,
    balance,
    flush_postings,
    limited_balance,
)

UNPAID = (MatchStatus.PENDING, MatchStatus.HELD_FOR_REVIEW, MatchStatus.APPROVED)


async def check_pools(session: AsyncSession) -> list[str]:
    await flush_postings(session)
    problems = await _check_phase_two(session)
    programs = (await session.scalars(sa.select(MatchingProgram).order_by(MatchingProgram.id))).all()
    for program in programs:
        problems.extend(await _check_program(session, program))
    return problems + await _check_matched_totals(session)


async def _check_matched_totals(session: AsyncSession) -> list[str]:
    """Campaign.matched_minor is a cache of its matches; one grouped query for every campaign."""
    fresh = sa.func.coalesce(sa.func.sum(totals.counted_sql()), 0)
    rows = await session.execute(
        sa.select(Campaign.id, Campaign.matched_minor, fresh)
        .outerjoin(Match, Match.campaign_id == Campaign.id)
        .group_by(Campaign.id, Campaign.matched_minor)
        .having(Campaign.matched_minor != fresh)
        .order_by(Campaign.id)
    )
    return [
        f"campaign {campaign_id}: stored matched total {stored} but its matches count {counted}"
        for campaign_id, stored, counted in rows
    ]


async def _check_phase_two(session: AsyncSession) -> list[str]:
    pending = aliased(LedgerTransfer)
    rows = await session.execute(
        sa.select(LedgerTransfer.idempotency_key)
        .join(pending, pending.id == LedgerTransfer.pending_id)
        .where(
            sa.or_(
                pending.kind != TransferKind.PENDING,
                pending.debit_account_id != LedgerTransfer.debit_account_id,
                pending.credit_account_id != LedgerTransfer.credit_account_id,
                pending.amount_minor != LedgerTransfer.amount_minor,
            )
        )
    )
    return [f"ledger: phase-two transfer {key} does not repeat its pending transfer" for (key,) in rows]


async def _check_program(session: AsyncSession, p: MatchingProgram) -> list[str]:
    label = f"matching program {p.id}"
    problems: list[str] = []
    counters = (p.held_minor, p.reserved_minor, p.paid_minor, p.recovered_minor, p.returned_minor)
    if min(counters) < 0 or p.available_minor < 0:
        problems.append(f"{label}: a pool counter is negative {counters}, available {p.available_minor}")
    funded = await _sum(session, LedgerTransfer.idempotency_key == pool.funded_key(p.id))
    pool_balance = await balance(session, code=pool.pool_account(p.id), currency=p.currency)
    expected_balance = p.budget_minor - p.paid_minor + p.recovered_minor - p.returned_minor
    open_to_quotes = await _open_pending(session, p, pool.quotes_account(p.id))
    open_to_matches = await _open_pending(session, p, None)
    posted = await _sum(
        session,
        LedgerTransfer.code == "match_paid",
        LedgerTransfer.debit_account_id == await _account(session, p),
    )
    rows = await _row_sums(session, p.id)
    problems.extend(await _check_flagged_balance(session, p))
    for name, found, expected in (
        ("funding", funded, p.budget_minor),
        ("pool balance", pool_balance, expected_balance),
        ("open quote holds in the ledger", open_to_quotes, p.held_minor),
        ("open reservations in the ledger", open_to_matches, p.reserved_minor),
        ("posted reservations", posted, p.paid_minor),
        ("held quotes", rows["held"], p.held_minor),
        ("unpaid matches", rows["reserved"], p.reserved_minor),
        ("paid matches", rows["paid"], p.paid_minor),
        ("clawbacks", rows["recovered"], p.recovered_minor),
    ):
        if found != expected:
            problems.append(f"{label}: {name} {found} != {expected}")
    return problems


async def _check_flagged_balance(session: AsyncSession, p: MatchingProgram) -> list[str]:
    """The counters against the pool's flagged balance, which the ledger itself kept at posting time.

    The ledger refuses what would overdraw the pool; the counters are a cache of its sums, so
    each must equal them: posted credits are the budget plus clawbacks, pending debits the holds
    and reservations, posted debits what was paid and returned.
    """
    label = f"matching program {p.id}"
    found = await limited_balance(session, code=pool.pool_account(p.id), currency=p.currency)
    if found is None:
        return [f"{label}: the pool account carries no balance limit"]
    return [
        f"{label}: pool {name} in the ledger {in_ledger} != counters {counted}"
        for name, in_ledger, counted in (
            ("posted credits", found.credits_posted_minor, p.budget_minor + p.recovered_minor),
            ("pending debits", found.debits_pending_minor, p.held_minor + p.reserved_minor),
            ("posted debits", found.debits_posted_minor, p.paid_minor + p.returned_minor),
            ("available", found.available_minor, p.available_minor),
        )
        if in_ledger != counted
    ]


async def _account(session: AsyncSession, program: MatchingProgram) -> uuid.UUID | None:
    return await session.scalar(
        sa.select(LedgerAccount.id).where(
            LedgerAccount.code == pool.pool_account(program.id), LedgerAccount.currency == program.currency
        )
    )


async def _sum(session: AsyncSession, *conditions: sa.ColumnElement[bool]) -> int:
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerTransfer.amount_minor), 0)).where(*conditions)
    )
    return int(total or 0)


async def _open_pending(session: AsyncSession, program: MatchingProgram, credit_code: str | None) -> int:
    """Pending transfers out of the pool not yet posted or voided (to quotes, or to any nonprofit)."""
    pool_id = await _account(session, program)
    if pool_id is None:
        return 0
    settled = sa.select(LedgerTransfer.pending_id).where(LedgerTransfer.pending_id.is_not(None))
    conditions = [
        LedgerTransfer.kind == TransferKind.PENDING,
        LedgerTransfer.debit_account_id == pool_id,
        LedgerTransfer.id.not_in(settled),
    ]
    quotes_id = await session.scalar(
        sa.select(LedgerAccount.id).where(
            LedgerAccount.code == pool.quotes_account(program.id), LedgerAccount.currency == program.currency
        )
    )
    if credit_code is not None:
        if quotes_id is None:
            return 0
        conditions.append(LedgerTransfer.credit_account_id == quotes_id)
    elif quotes_id is not None:
        conditions.append(LedgerTransfer.credit_account_id != quotes_id)
    return await _sum(session, *conditions)


async def _row_sums(session: AsyncSession, program_id: uuid.UUID) -> dict[str, int]:
    def total(
        column: InstrumentedAttribute[int], *conditions: sa.ColumnElement[bool]
    ) -> sa.ScalarSelect[int]:
        return sa.select(sa.func.coalesce(sa.func.sum(column), 0)).where(*conditions).scalar_subquery()

    row = (
        await session.execute(
            sa.select(
                total(
                    MatchQuote.amount_minor,
                    MatchQuote.program_id == program_id,
                    MatchQuote.status == QuoteStatus.HELD,
                ),
                total(Match.amount_minor, Match.program_id == program_id, Match.status.in_(UNPAID)),
                total(Match.amount_minor, Match.program_id == program_id, Match.status == MatchStatus.PAID),
                total(Match.recovered_minor, Match.program_id == program_id),
            )
        )
    ).one()
    return {"held": int(row[0]), "reserved": int(row[1]), "paid": int(row[2]), "recovered": int(row[3])}
