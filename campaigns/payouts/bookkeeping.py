"""Ledger accounts and postings of payouts, reversals and receivables.

Accounts (balance = credits - debits; {n} a nonprofit, {p} a program):

    nonprofit:{n}:matches              matches paid to the nonprofit (posted reservations), until
                                       the money actually moves: zero at rest
    nonprofit:{n}:matches_transferred  matched money that reached the nonprofit's Stripe account
    program:{p}:receivables            what nonprofits owe back to the program (negative)

Transfers and keys, each posted once, when a verified webhook (or Stripe's refusal) settles it:

    match:{m}:transfer                 matches -> matches_transferred   the Stripe transfer
    payout:{id}:netted:{reversal}      matches -> receivables           kept back from a payout
    match:{m}:reversal:{cause}         matches_transferred -> matches   a confirmed reversal
    match:{m}:receivable:{cause}       receivables -> matches           a reversal that failed

A clawback also credits the pool (`pool.claw_back`, key `match:{m}:clawback:{total}`) at the
moment its reversal settles, so `nonprofit:{n}:matches` nets to zero again.
"""

from __future__ import annotations

import uuid

from campaigns.matching.pool import matches_account
from service.ledger import Posting, post
from service.unit_of_work import UnitOfWork


def transferred_account(nonprofit_id: uuid.UUID) -> str:
    return f"nonprofit:{nonprofit_id}:matches_transferred"


def receivables_account(program_id: uuid.UUID) -> str:
    return f"program:{program_id}:receivables"


class Code:
    TRANSFERRED = "match_transferred"
    NETTED = "receivable_netted"
    REVERSED = "match_transfer_reversed"
    RECEIVABLE = "receivable_recorded"


def transfer_key(match_id: uuid.UUID) -> str:
    """Our ledger key and Stripe's idempotency key of a match's one transfer."""
    return f"match:{match_id}:transfer"


def reversal_key(match_id: uuid.UUID, cause: str) -> str:
    return f"match:{match_id}:reversal:{cause}"


def receivable_key(match_id: uuid.UUID, cause: str) -> str:
    return f"match:{match_id}:receivable:{cause}"


def netting_key(payout_id: uuid.UUID, reversal_id: uuid.UUID) -> str:
    return f"payout:{payout_id}:netted:{reversal_id}"


async def _post(
    session: UnitOfWork,
    *,
    key: str,
    debit: str,
    credit: str,
    amount_minor: int,
    currency: str,
    code: str,
    donation_id: uuid.UUID | None,
) -> None:
    if amount_minor <= 0:
        return
    await post(
        session,
        Posting(
            idempotency_key=key,
            debit=debit,
            credit=credit,
            amount_minor=amount_minor,
            currency=currency,
            code=code,
            donation_id=donation_id,
        ),
    )


async def book_transfer(
    session: UnitOfWork,
    *,
    match_id: uuid.UUID,
    nonprofit_id: uuid.UUID,
    amount_minor: int,
    currency: str,
    donation_id: uuid.UUID | None,
) -> None:
    await _post(
        session,
        key=transfer_key(match_id),
        debit=matches_account(nonprofit_id),
        credit=transferred_account(nonprofit_id),
        amount_minor=amount_minor,
        currency=currency,
        code=Code.TRANSFERRED,
        donation_id=donation_id,
    )


async def book_netting(
    session: UnitOfWork,
    *,
    payout_id: uuid.UUID,
    reversal_id: uuid.UUID,
    nonprofit_id: uuid.UUID,
    receivable_program_id: uuid.UUID,
    amount_minor: int,
    currency: str,
) -> None:
    await _post(
        session,
        key=netting_key(payout_id, reversal_id),
        debit=matches_account(nonprofit_id),
        credit=receivables_account(receivable_program_id),
        amount_minor=amount_minor,
        currency=currency,
        code=Code.NETTED,
        donation_id=None,
    )


async def book_reversal(
    session: UnitOfWork,
    *,
    match_id: uuid.UUID,
    cause: str,
    nonprofit_id: uuid.UUID,
    amount_minor: int,
    currency: str,
    donation_id: uuid.UUID | None,
) -> None:
    await _post(
        session,
        key=reversal_key(match_id, cause),
        debit=transferred_account(nonprofit_id),
        credit=matches_account(nonprofit_id),
        amount_minor=amount_minor,
        currency=currency,
        code=Code.REVERSED,
        donation_id=donation_id,
    )


async def book_receivable(
    session: UnitOfWork,
    *,
    match_id: uuid.UUID,
    cause: str,
    nonprofit_id: uuid.UUID,
    program_id: uuid.UUID,
    amount_minor: int,
    currency: str,
    donation_id: uuid.UUID | None,
) -> None:
    await _post(
        session,
        key=receivable_key(match_id, cause),
        debit=receivables_account(program_id),
        credit=matches_account(nonprofit_id),
        amount_minor=amount_minor,
        currency=currency,
        code=Code.RECEIVABLE,
        donation_id=donation_id,
    )
