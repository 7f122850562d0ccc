"""A program's pool: every movement is a ledger transfer and a counter change, under the row lock.

Accounts (balance = credits - debits; pending transfers count only once posted):

    funder:platform | funder:sponsor:{name}   who funds programs (goes negative)
    program:{id}:pool                         the funded budget, net of what was paid out
    program:{id}:quotes                       quote holds (pending only: voided at settle or expiry)
    nonprofit:{id}:matches                    matches reserved (pending) and paid (posted) to a nonprofit

Transfers and keys:

    program:{id}:funded               funder -> pool                      posted   budget
    quote:{id}:hold / quote:{id}:close  pool -> quotes                   pending / void
    match:{id}:r{n}                   pool -> nonprofit matches           pending  (revision n)
    match:{id}:r{n}:void              releases revision n                 void
    match:{id}:r{n}:post              pays revision n                     post
    match:{id}:clawback:{total}       nonprofit matches -> pool           posted   (refund after payment)
    program:{id}:returned:{total}     pool -> funder                      posted   (unspent, once ended)

The pool account is flagged `debits_must_not_exceed_credits` when it is funded: the ledger
itself refuses (LedgerLimitExceeded) any hold, reservation or return that would take it below
zero, whatever path posts it. The counters on the program row (held, reserved, paid,
recovered, returned) are a cache of its sums that `goodloop ledger check` compares with them,
and a CHECK constraint still keeps held + reserved + paid - recovered + returned <= budget.
Callers hold the program's row lock (`lock_program`, FOR NO KEY UPDATE), which serialises every
worker reserving from one pool; where it sits among the other locks is in docs/architecture.md
("Lock order").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import Donation
from campaigns.matching import repository, totals
from campaigns.matching.models import FunderKind, Match, MatchingProgram, MatchQuote
from service.db import locked_rows
from service.ledger import BalanceLimit, Posting, TransferKind, open_limited_account, post, transfer_id_for
from service.unit_of_work import UnitOfWork


def funder_account(program: MatchingProgram) -> str:
    if program.funder_kind is FunderKind.PLATFORM:
        return "funder:platform"
    return f"funder:sponsor:{program.funder_name.strip().lower()}"[:120]


def funded_key(program_id: uuid.UUID) -> str:
    """The one transfer that funds a program's pool with its budget (checks and finance read it)."""
    return f"program:{program_id}:funded"


def pool_account(program_id: uuid.UUID) -> str:
    return f"program:{program_id}:pool"


def quotes_account(program_id: uuid.UUID) -> str:
    return f"program:{program_id}:quotes"


def matches_account(nonprofit_id: uuid.UUID) -> str:
    return f"nonprofit:{nonprofit_id}:matches"


async def lock_programs(
    session: AsyncSession, program_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, MatchingProgram]:
    """Programs locked in id order, all in one statement, so no two transactions wait in a cycle.

    Programs come right after donations in the global lock order (docs/architecture.md): lock
    them before any match, quote, payout or campaign row, and all at once: a second call in the
    same transaction may only ask for programs already held.
    """
    ids = sorted(set(program_ids))
    if not ids:
        return {}
    query = sa.select(MatchingProgram).where(MatchingProgram.id.in_(ids)).order_by(MatchingProgram.id)
    return {p.id: p for p in await locked_rows(session, query)}


async def lock_program(session: AsyncSession, program_id: uuid.UUID) -> MatchingProgram | None:
    return (await lock_programs(session, [program_id])).get(program_id)


async def lock_programs_touching(
    session: UnitOfWork, *, donations: Sequence[Donation], match_ids: Sequence[uuid.UUID] = ()
) -> dict[uuid.UUID, MatchingProgram]:
    """Lock up front, in one statement, every program a batch about these donations may need.

    A batch runs many handlers in one transaction; each would lock its own programs as it
    goes, so a batch could take program 3 before program 1 while a rival took them in id
    order. Locked here first, the handlers' own lock_programs find them already held.
    """
    ids = await repository.program_ids_touching(session, donations=donations, match_ids=match_ids)
    return await lock_programs(session, ids)


async def _post(
    session: UnitOfWork,
    program: MatchingProgram,
    *,
    key: str,
    debit: str,
    credit: str,
    amount_minor: int,
    code: str,
    kind: TransferKind = TransferKind.POSTED,
    pending_key: str | None = None,
    donation_id: uuid.UUID | None = None,
) -> uuid.UUID:
    await post(
        session,
        Posting(
            idempotency_key=key,
            debit=debit,
            credit=credit,
            amount_minor=amount_minor,
            currency=program.currency,
            code=code,
            kind=kind,
            pending_id=transfer_id_for(pending_key) if pending_key else None,
            donation_id=donation_id,
        ),
    )
    return transfer_id_for(key)


async def fund(session: UnitOfWork, program: MatchingProgram) -> None:
    # Flagged before its first transfer: from here on the ledger itself refuses any hold,
    # reservation or return that would take the pool below zero (LedgerLimitExceeded).
    await open_limited_account(
        session,
        code=pool_account(program.id),
        currency=program.currency,
        limit=BalanceLimit.DEBITS_MUST_NOT_EXCEED_CREDITS,
    )
    await _post(
        session,
        program,
        key=funded_key(program.id),
        debit=funder_account(program),
        credit=pool_account(program.id),
        amount_minor=program.budget_minor,
        code="matching_program_funded",
    )


async def hold_quote(session: UnitOfWork, program: MatchingProgram, quote: MatchQuote) -> None:
    quote.transfer_id = await _post(
        session,
        program,
        key=f"quote:{quote.id}:hold",
        debit=pool_account(program.id),
        credit=quotes_account(program.id),
        amount_minor=quote.amount_minor,
        code="match_quote_held",
        kind=TransferKind.PENDING,
        donation_id=quote.donation_id,
    )
    program.held_minor += quote.amount_minor


async def close_quote(session: UnitOfWork, program: MatchingProgram, quote: MatchQuote) -> None:
    """Release a quote's hold (converted into a match or let go); the caller sets its status."""
    await _post(
        session,
        program,
        key=f"quote:{quote.id}:close",
        debit=pool_account(program.id),
        credit=quotes_account(program.id),
        amount_minor=quote.amount_minor,
        code="match_quote_closed",
        kind=TransferKind.VOID_PENDING,
        pending_key=f"quote:{quote.id}:hold",
        donation_id=quote.donation_id,
    )
    program.held_minor -= quote.amount_minor


_PHASE_TWO_SUFFIX = {TransferKind.VOID_PENDING: ":void", TransferKind.POST_PENDING: ":post"}


async def _reservation_transfer(
    session: UnitOfWork, program: MatchingProgram, match: Match, *, kind: TransferKind, code: str
) -> uuid.UUID:
    """The current revision's pending transfer (pool -> nonprofit matches), or its void or post,
    which repeats the pending transfer's accounts and amount and names it."""
    key = f"match:{match.id}:r{match.revision}"
    phase_two = kind in _PHASE_TWO_SUFFIX
    return await _post(
        session,
        program,
        key=key + _PHASE_TWO_SUFFIX[kind] if phase_two else key,
        debit=pool_account(program.id),
        credit=matches_account(match.nonprofit_id),
        amount_minor=match.amount_minor,
        code=code,
        kind=kind,
        pending_key=key if phase_two else None,
        donation_id=match.donation_id,
    )


async def reserve(session: UnitOfWork, program: MatchingProgram, match: Match) -> None:
    """Reserve the match's amount as a pending transfer (its current revision)."""
    totals.note_changed(session, match)
    if match.amount_minor <= 0:
        match.reservation_transfer_id = None
        return
    match.reservation_transfer_id = await _reservation_transfer(
        session, program, match, kind=TransferKind.PENDING, code="match_reserved"
    )
    program.reserved_minor += match.amount_minor


async def release(session: UnitOfWork, program: MatchingProgram, match: Match) -> None:
    """Void the current reservation; the amount goes back to the pool's available budget."""
    totals.note_changed(session, match)
    if match.amount_minor <= 0 or match.reservation_transfer_id is None:
        return
    await _reservation_transfer(session, program, match, kind=TransferKind.VOID_PENDING, code="match_voided")
    program.reserved_minor -= match.amount_minor
    match.reservation_transfer_id = None


async def resize(session: UnitOfWork, program: MatchingProgram, match: Match, *, amount_minor: int) -> None:
    """Void the current reservation and reserve `amount_minor` instead (a new revision)."""
    if amount_minor == match.amount_minor:
        return
    await release(session, program, match)
    match.revision += 1
    match.amount_minor = amount_minor
    await reserve(session, program, match)


async def pay(session: UnitOfWork, program: MatchingProgram, match: Match) -> None:
    """Post the reservation: the match's money now belongs to the nonprofit."""
    await _reservation_transfer(session, program, match, kind=TransferKind.POST_PENDING, code="match_paid")
    program.reserved_minor -= match.amount_minor
    program.paid_minor += match.amount_minor


async def claw_back(session: UnitOfWork, program: MatchingProgram, match: Match, *, total_minor: int) -> None:
    """Recover a paid match down to `total_minor` clawed back in all (absolute, so replays add nothing)."""
    more = total_minor - match.recovered_minor
    if more <= 0:
        return
    await _post(
        session,
        program,
        key=f"match:{match.id}:clawback:{total_minor}",
        debit=matches_account(match.nonprofit_id),
        credit=pool_account(program.id),
        amount_minor=more,
        code="match_clawed_back",
        donation_id=match.donation_id,
    )
    match.recovered_minor = total_minor
    program.recovered_minor += more
    totals.note_changed(session, match)


async def return_unspent(session: UnitOfWork, program: MatchingProgram) -> int:
    """Give what is available back to the funder (an ended program); returns the amount."""
    amount = program.available_minor
    if amount <= 0:
        return 0
    total = program.returned_minor + amount
    await _post(
        session,
        program,
        key=f"program:{program.id}:returned:{total}",
        debit=pool_account(program.id),
        credit=funder_account(program),
        amount_minor=amount,
        code="matching_budget_returned",
    )
    program.returned_minor = total
    return amount
