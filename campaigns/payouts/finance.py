"""Finance figures per matching program, all from the ledger (the rows only say which is which).

    budget        funded into the pool (program:{p}:funded)
    held          quote holds open (pending pool -> quotes)
    reserved      match reservations open (pending pool -> nonprofit), payables excluded
    payable       open reservations of approved matches whose nonprofit cannot be paid yet
    paid          reservations posted (match_paid out of the pool)
    clawed_back   clawbacks settled into the pool (match_clawed_back)
    returned      unspent budget given back to the funder
    available     the pool's balance less everything open on it (the ledger's flagged balance)
    receivable    what nonprofits owe the program after refused reversals, not yet netted

so that budget = available + held + reserved + payable + paid - clawed_back + returned.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from campaigns.matching import pool
from campaigns.matching.models import Match, MatchingProgram
from campaigns.payouts.bookkeeping import receivables_account
from campaigns.payouts.models import Payout, PayoutStatus
from service.ledger import (
    LedgerAccount,
    LedgerTransfer,
    TransferKind,
    balance,
    flush_postings,
    limited_balance,
)


class ProgramFinance(BaseModel):
    """One program's figures; the API returns exactly these (schemas.ProgramFinanceOut)."""

    model_config = ConfigDict(frozen=True)

    program_id: uuid.UUID
    name: str
    currency: str
    budget_minor: int
    available_minor: int
    held_minor: int
    reserved_minor: int
    payable_minor: int
    paid_minor: int
    clawed_back_minor: int
    returned_minor: int
    receivable_minor: int


async def finance_summary(session: AsyncSession) -> list[ProgramFinance]:
    await flush_postings(session)
    programs = (
        await session.scalars(
            sa.select(MatchingProgram).order_by(MatchingProgram.created_at, MatchingProgram.id)
        )
    ).all()
    return [await program_finance(session, p) for p in programs]


async def _account(session: AsyncSession, code: str, currency: str) -> uuid.UUID | None:
    return await session.scalar(
        sa.select(LedgerAccount.id).where(LedgerAccount.code == code, LedgerAccount.currency == currency)
    )


async def _sum(session: AsyncSession, query: sa.Select[tuple[int]]) -> int:
    return int(await session.scalar(query) or 0)


def _total() -> sa.Select[tuple[int]]:
    return sa.select(sa.func.coalesce(sa.func.sum(LedgerTransfer.amount_minor), 0))


def _open_pending() -> sa.ColumnElement[bool]:
    phase_two = aliased(LedgerTransfer)
    settled = sa.select(phase_two.pending_id).where(phase_two.pending_id.is_not(None))
    return sa.and_(LedgerTransfer.kind == TransferKind.PENDING, LedgerTransfer.id.not_in(settled))


async def program_finance(session: AsyncSession, program: MatchingProgram) -> ProgramFinance:
    pool_id = await _account(session, pool.pool_account(program.id), program.currency)
    quotes_id = await _account(session, pool.quotes_account(program.id), program.currency)
    budget = await _sum(
        session, _total().where(LedgerTransfer.idempotency_key == pool.funded_key(program.id))
    )
    if pool_id is None:
        return ProgramFinance(
            program_id=program.id,
            name=program.name,
            currency=program.currency,
            budget_minor=budget,
            available_minor=budget,
            held_minor=0,
            reserved_minor=0,
            payable_minor=0,
            paid_minor=0,
            clawed_back_minor=0,
            returned_minor=0,
            receivable_minor=0,
        )
    out_of_pool = LedgerTransfer.debit_account_id == pool_id
    held = await _sum(
        session, _total().where(out_of_pool, _open_pending(), LedgerTransfer.credit_account_id == quotes_id)
    )
    open_reservations = await _sum(
        session,
        _total().where(out_of_pool, _open_pending(), LedgerTransfer.credit_account_id != quotes_id)
        if quotes_id is not None
        else _total().where(out_of_pool, _open_pending()),
    )
    payable_matches = (
        sa.select(Match.reservation_transfer_id)
        .join(Payout, Payout.match_id == Match.id)
        .where(Match.program_id == program.id, Payout.status == PayoutStatus.PAYABLE)
    )
    payable = await _sum(
        session, _total().where(out_of_pool, _open_pending(), LedgerTransfer.id.in_(payable_matches))
    )
    paid = await _sum(session, _total().where(out_of_pool, LedgerTransfer.code == "match_paid"))
    clawed = await _sum(
        session,
        _total().where(
            LedgerTransfer.credit_account_id == pool_id, LedgerTransfer.code == "match_clawed_back"
        ),
    )
    returned = await _sum(
        session, _total().where(out_of_pool, LedgerTransfer.code == "matching_budget_returned")
    )
    # What is available is the ledger's own figure for the flagged pool account, the one it
    # refuses overdrafts against (campaigns.matching.pool.fund flags every pool).
    flagged = await limited_balance(session, code=pool.pool_account(program.id), currency=program.currency)
    assert flagged is not None, f"pool of program {program.id} carries no balance limit"
    receivable = -await balance(session, code=receivables_account(program.id), currency=program.currency)
    return ProgramFinance(
        program_id=program.id,
        name=program.name,
        currency=program.currency,
        budget_minor=budget,
        available_minor=flagged.available_minor,
        held_minor=held,
        reserved_minor=open_reservations - payable,
        payable_minor=payable,
        paid_minor=paid,
        clawed_back_minor=clawed,
        returned_minor=returned,
        receivable_minor=receivable,
    )
