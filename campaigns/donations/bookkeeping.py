"""Ledger postings for donations: every movement of donors' money, keyed by what caused it.

Accounts (one per code and currency; balance = credits - debits):

    donors:payments                    outside world: what donors paid in (goes negative)
    campaign:{campaign_id}:donations   gifts held for a campaign, net of refunds and disputes
    platform:fee_cover                 what donors added to cover fees; Stripe's fees are paid from it
    stripe:fees                        Stripe's processing fees
    donors:refunds                     refunds returned to donors
    donors:disputes                    funds withdrawn by disputes (returned when reinstated)
    nonprofit:{nonprofit_id}:connected_account   moved to the nonprofit's Stripe account

Transfers and their idempotency keys (the same fact posted twice is a no-op, so sibling and
duplicate events count a donation exactly once):

    donation:{id}:received      donors:payments -> campaign            amount_minor
    donation:{id}:fee_cover     donors:payments -> platform:fee_cover  fee_cover_minor
    charge:{ch}:fee             platform:fee_cover -> stripe:fees      the charge's Stripe fee
    refund:{re}                 campaign -> donors:refunds             refund amount
    refund:{re}:failed          donors:refunds -> campaign             a failed refund comes back
    dispute:{dp}:withdrawn      campaign -> donors:disputes            disputed amount
    dispute:{dp}:reinstated     donors:disputes -> campaign            dispute won
    transfer:{tr}               campaign -> nonprofit connected account
    transfer:{tr}:reversed:{n}  nonprofit connected account -> campaign (up to n reversed in total)

Refunds are taken from the campaign's account in full, including any fee-cover part.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import Donation
from service.ledger import LedgerTransfer, Posting, flush_postings, post
from service.unit_of_work import UnitOfWork

DONORS_PAYMENTS = "donors:payments"
PLATFORM_FEE_COVER = "platform:fee_cover"
STRIPE_FEES = "stripe:fees"
DONORS_REFUNDS = "donors:refunds"
DONORS_DISPUTES = "donors:disputes"


class Code(StrEnum):
    RECEIVED = "donation_received"
    FEE_COVER = "donation_fee_cover"
    STRIPE_FEE = "stripe_fee"
    REFUND = "refund"
    REFUND_FAILED = "refund_failed"
    DISPUTE_WITHDRAWN = "dispute_withdrawn"
    DISPUTE_REINSTATED = "dispute_reinstated"
    TRANSFER = "transfer_to_nonprofit"
    TRANSFER_REVERSED = "transfer_reversed"


def refund_key(refund_id: str) -> str:
    return f"refund:{refund_id}"


def dispute_key(dispute_id: str) -> str:
    return f"dispute:{dispute_id}:withdrawn"


def refund_or_dispute_named_by(key: str) -> str | None:
    """The Stripe refund or dispute id in a `refund_key` / `dispute_key`, else None.

    Parsed here, beside the formats, so a change to a key cannot leave its reader behind
    (payouts names a clawback's reversal after the refund or dispute that caused it).
    """
    parts = key.split(":")
    if parts[0] == "refund" and len(parts) == 2:
        return parts[1]
    if parts[0] == "dispute" and len(parts) == 3 and parts[2] == "withdrawn":
        return parts[1]
    return None


def campaign_account(campaign_id: uuid.UUID) -> str:
    return f"campaign:{campaign_id}:donations"


def nonprofit_account(nonprofit_id: uuid.UUID) -> str:
    return f"nonprofit:{nonprofit_id}:connected_account"


async def _post(
    session: UnitOfWork, donation: Donation, *, key: str, debit: str, credit: str, amount: int, code: Code
) -> None:
    if amount <= 0:
        return
    await post(
        session,
        Posting(
            idempotency_key=key,
            debit=debit,
            credit=credit,
            amount_minor=amount,
            currency=donation.currency,
            code=code,
            donation_id=donation.id,
        ),
    )


async def book_receipt(session: UnitOfWork, donation: Donation) -> None:
    campaign = campaign_account(donation.campaign_id)
    await _post(
        session,
        donation,
        key=f"donation:{donation.id}:received",
        debit=DONORS_PAYMENTS,
        credit=campaign,
        amount=donation.amount_minor,
        code=Code.RECEIVED,
    )
    await _post(
        session,
        donation,
        key=f"donation:{donation.id}:fee_cover",
        debit=DONORS_PAYMENTS,
        credit=PLATFORM_FEE_COVER,
        amount=donation.fee_cover_minor,
        code=Code.FEE_COVER,
    )


async def book_stripe_fee(session: UnitOfWork, donation: Donation, *, charge_id: str, fee_minor: int) -> None:
    await _post(
        session,
        donation,
        key=f"charge:{charge_id}:fee",
        debit=PLATFORM_FEE_COVER,
        credit=STRIPE_FEES,
        amount=fee_minor,
        code=Code.STRIPE_FEE,
    )


async def book_refund(
    session: UnitOfWork, donation: Donation, *, refund_id: str, amount_minor: int, failed: bool
) -> None:
    # A failure seen before the refund itself still implies the refund was made first.
    await _book_outflow(
        session,
        donation,
        key=refund_key(refund_id),
        returned_to=DONORS_REFUNDS,
        amount=amount_minor,
        codes=(Code.REFUND, Code.REFUND_FAILED),
        undone=failed,
        undo_key=f"refund:{refund_id}:failed",
    )


async def book_dispute(
    session: UnitOfWork, donation: Donation, *, dispute_id: str, amount_minor: int, reinstated: bool
) -> None:
    await _book_outflow(
        session,
        donation,
        key=dispute_key(dispute_id),
        returned_to=DONORS_DISPUTES,
        amount=amount_minor,
        codes=(Code.DISPUTE_WITHDRAWN, Code.DISPUTE_REINSTATED),
        undone=reinstated,
        undo_key=f"dispute:{dispute_id}:reinstated",
    )


async def _book_outflow(
    session: UnitOfWork,
    donation: Donation,
    *,
    key: str,
    returned_to: str,
    amount: int,
    codes: tuple[Code, Code],
    undone: bool,
    undo_key: str,
) -> None:
    """Money leaving the campaign back to the donor's side, and its undoing if that happened."""
    campaign = campaign_account(donation.campaign_id)
    out_code, undo_code = codes
    await _post(session, donation, key=key, debit=campaign, credit=returned_to, amount=amount, code=out_code)
    if undone:
        await _post(
            session,
            donation,
            key=undo_key,
            debit=returned_to,
            credit=campaign,
            amount=amount,
            code=undo_code,
        )


async def book_transfer(
    session: UnitOfWork, donation: Donation, *, transfer_id: str, amount_minor: int, reversed_minor: int
) -> None:
    """The transfer, and its reversals up to the absolute amount reversed so far."""
    campaign = campaign_account(donation.campaign_id)
    nonprofit = nonprofit_account(donation.nonprofit_id)
    await _post(
        session,
        donation,
        key=f"transfer:{transfer_id}",
        debit=campaign,
        credit=nonprofit,
        amount=amount_minor,
        code=Code.TRANSFER,
    )
    already = await sum_by_key_prefix(session, prefix=f"transfer:{transfer_id}:reversed:")
    await _post(
        session,
        donation,
        key=f"transfer:{transfer_id}:reversed:{reversed_minor}",
        debit=nonprofit,
        credit=campaign,
        amount=reversed_minor - already,
        code=Code.TRANSFER_REVERSED,
    )


async def sum_by_key_prefix(session: AsyncSession, *, prefix: str) -> int:
    await flush_postings(session)
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerTransfer.amount_minor), 0)).where(
            LedgerTransfer.idempotency_key.startswith(prefix, autoescape=True)
        )
    )
    return int(total or 0)


async def donation_sums(session: AsyncSession, donation_id: uuid.UUID) -> dict[str, int]:
    """Total amount per transfer code for one donation."""
    await flush_postings(session)
    rows = await session.execute(
        sa.select(LedgerTransfer.code, sa.func.sum(LedgerTransfer.amount_minor))
        .where(LedgerTransfer.donation_id == donation_id)
        .group_by(LedgerTransfer.code)
    )
    return {code: int(total) for code, total in rows}


def net_refunded(sums: dict[str, int]) -> int:
    return sums.get(Code.REFUND, 0) - sums.get(Code.REFUND_FAILED, 0)
