"""`goodloop ledger check`: the ledger, the donations and the campaign totals must agree.

Checks, each reported as one line per mismatch:
- per currency, the sum of debits equals the sum of credits (every account's balance sums to 0);
- every paid donation has its gift and fee cover received exactly once, unpaid ones nothing;
- every donation's refunded_minor equals its refunds in the ledger (refunds less failed ones);
- every campaign's raised_minor and donor_count equal a fresh computation from its donations,
  and raised_minor equals the ledger's received-less-refunded over its settled donations.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.donations.bookkeeping import Code
from campaigns.donations.models import SETTLED, Donation
from campaigns.donations.repository import settled_totals
from campaigns.donations.settlement import PAID
from service.ledger import LedgerAccount, LedgerTransfer, flush_postings


async def check_books(session: AsyncSession) -> list[str]:
    await flush_postings(session)
    problems = await _check_double_entry(session)
    sums = await _sums_by_donation(session)
    raised_from_ledger: dict[uuid.UUID, int] = defaultdict(int)
    donations = await session.stream_scalars(sa.select(Donation).order_by(Donation.id))
    async for donation in donations:
        own = sums.get(donation.id, {})
        problems.extend(_check_donation(donation, own))
        if donation.status in SETTLED:
            net = own.get(Code.RECEIVED, 0) - own.get(Code.REFUND, 0) + own.get(Code.REFUND_FAILED, 0)
            raised_from_ledger[donation.campaign_id] += max(net, 0)
    campaigns = (await session.scalars(sa.select(Campaign).order_by(Campaign.id))).all()
    for campaign in campaigns:
        problems.extend(await _check_campaign(session, campaign, raised_from_ledger[campaign.id]))
    return problems


async def _check_double_entry(session: AsyncSession) -> list[str]:
    debits = (
        sa.select(LedgerAccount.currency, sa.func.sum(LedgerTransfer.amount_minor))
        .join(LedgerAccount, LedgerAccount.id == LedgerTransfer.debit_account_id)
        .group_by(LedgerAccount.currency)
    )
    credits = (
        sa.select(LedgerAccount.currency, sa.func.sum(LedgerTransfer.amount_minor))
        .join(LedgerAccount, LedgerAccount.id == LedgerTransfer.credit_account_id)
        .group_by(LedgerAccount.currency)
    )
    debit_sums = {currency: int(total) for currency, total in await session.execute(debits)}
    credit_sums = {currency: int(total) for currency, total in await session.execute(credits)}
    return [
        f"ledger {currency}: debits {debit_sums.get(currency, 0)} != credits {credit_sums.get(currency, 0)}"
        for currency in sorted(set(debit_sums) | set(credit_sums))
        if debit_sums.get(currency, 0) != credit_sums.get(currency, 0)
    ]


async def _sums_by_donation(session: AsyncSession) -> dict[uuid.UUID, dict[str, int]]:
    rows = await session.execute(
        sa.select(LedgerTransfer.donation_id, LedgerTransfer.code, sa.func.sum(LedgerTransfer.amount_minor))
        .where(LedgerTransfer.donation_id.is_not(None))
        .group_by(LedgerTransfer.donation_id, LedgerTransfer.code)
    )
    sums: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for donation_id, code, total in rows:
        if donation_id is not None:
            sums[donation_id][code] = int(total)
    return sums


def _check_donation(donation: Donation, sums: dict[str, int]) -> list[str]:
    paid = donation.status in PAID
    expected = {
        Code.RECEIVED: donation.amount_minor if paid else 0,
        Code.FEE_COVER: donation.fee_cover_minor if paid else 0,
    }
    problems = [
        f"donation {donation.id} ({donation.status}): {code} {sums.get(code, 0)} != expected {amount}"
        for code, amount in expected.items()
        if sums.get(code, 0) != amount
    ]
    refunded = sums.get(Code.REFUND, 0) - sums.get(Code.REFUND_FAILED, 0)
    if refunded != donation.refunded_minor:
        problems.append(
            f"donation {donation.id}: refunded_minor {donation.refunded_minor} != ledger refunds {refunded}"
        )
    return problems


async def _check_campaign(session: AsyncSession, campaign: Campaign, raised_from_ledger: int) -> list[str]:
    raised, donors = await settled_totals(session, campaign.id)
    problems = []
    if (campaign.raised_minor, campaign.donor_count) != (raised, donors):
        problems.append(
            f"campaign {campaign.id}: stored totals ({campaign.raised_minor}, {campaign.donor_count}) "
            f"!= recomputed ({raised}, {donors})"
        )
    if raised != raised_from_ledger:
        problems.append(f"campaign {campaign.id}: raised {raised} != ledger {raised_from_ledger}")
    return problems
