"""Whether a donation may earn a match from a program, and what its gift counts for.

Only engagement that is costly to fake pays: settled money from a donor cluster that is not
the nonprofit's own people, that Stripe did not flag, in the program's window and currency.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.donations.models import SETTLED, Donation
from campaigns.matching import identity
from campaigns.matching.models import MatchingProgram, RecurringRule
from campaigns.nonprofits.models import Nonprofit, NonprofitStatus

REASONS = {
    "not_settled": "The donation is not settled (processing, failed, refunded or disputed).",
    "currency": "The donation is in another currency than the program.",
    "outside_window": "The donation was made outside the program's window.",
    "campaign_not_eligible": "The campaign is not part of the program.",
    "campaign_paused": "The campaign is paused or closed.",
    "nonprofit_not_verified": "The nonprofit is not verified.",
    "below_minimum": "The donation is below the program's minimum.",
    "early_fraud_warning": "The card issuer sent an early fraud warning for this payment.",
    "stripe_risk": "Stripe Radar scored the payment above the program's risk limit.",
    "owner_linked": "The donor is linked to the nonprofit's own people.",
    "later_installment": "The program matches only the first installment of a recurring gift.",
}


@dataclass(frozen=True)
class Context:
    campaign: Campaign
    nonprofit: Nonprofit


def program_takes(program: MatchingProgram, ctx: Context) -> str | None:
    """Why a program cannot match anything for this campaign right now (None: it can)."""
    if program.campaign_ids is not None and str(ctx.campaign.id) not in program.campaign_ids:
        return "campaign_not_eligible"
    if ctx.campaign.status is not CampaignStatus.LIVE:
        return "campaign_paused"
    if program.verified_nonprofits_only and ctx.nonprofit.status is not NonprofitStatus.VERIFIED:
        return "nonprofit_not_verified"
    return None


def donation_fails(program: MatchingProgram, donation: Donation) -> str | None:
    """The facts of the donation alone that rule it out (no database needed)."""
    if donation.status not in SETTLED:
        return "not_settled"
    if donation.currency != program.currency:
        return "currency"
    if not program.starts_at <= donation.created_at < program.ends_at:
        return "outside_window"
    if donation.amount_minor < program.min_donation_minor:
        return "below_minimum"
    if (donation.installment or 1) > 1 and program.recurring_rule is not RecurringRule.EACH_INSTALLMENT:
        return "later_installment"
    if donation.early_fraud_warning:
        return "early_fraud_warning"
    if donation.risk_score is not None and donation.risk_score > program.max_risk_score:
        return "stripe_risk"
    return None


async def ineligible_reason(
    session: AsyncSession,
    program: MatchingProgram,
    donation: Donation,
    *,
    cluster_id: uuid.UUID,
    ctx: Context,
    program_level: bool = True,
) -> str | None:
    """Why the donation cannot (or can no longer) earn a match from the program.

    `program_level=False` asks about a match that already exists: a campaign paused or a
    nonprofit's status changed after the gift stops new matches, not the ones it earned.
    """
    reason = donation_fails(program, donation) or (program_takes(program, ctx) if program_level else None)
    if reason is not None:
        return reason
    if await identity.is_owner_linked(session, cluster_id=cluster_id, nonprofit_id=donation.nonprofit_id):
        return "owner_linked"
    return None


def net_gift_minor(donation: Donation) -> int:
    """The gift still with the campaign: what refunds left of it (the fee cover is refunded last)."""
    return net_of_refunds(donation.amount_minor, refunded_minor=donation.refunded_minor)


def net_of_refunds(amount_minor: int, *, refunded_minor: int) -> int:
    """A refund comes out of the gift first and out of the fee cover last.

    The ledger takes a refund from the campaign's account in full and the campaign's raised
    total counts the gift less refunds; the fee cover paid Stripe's fee, which Stripe keeps on
    a refund. So the gift a match follows is what the campaign keeps: a match scaled to a
    proportional share (fee cover included) would outlive the gift it tops up.
    """
    return max(amount_minor - refunded_minor, 0)


def scaled(amount_minor: int, *, original_gift_minor: int, net_gift: int) -> int:
    """A match amount scaled to what is left of the gift (partial refunds void proportionally)."""
    if original_gift_minor <= 0:
        return 0
    return amount_minor * net_gift // original_gift_minor
