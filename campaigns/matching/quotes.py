"""What a gift unlocks, shown before paying and held for the Checkout Session's lifetime.

A donor who is told "your €25 becomes €50" must get it, even if the pool runs low while
they type their card number: the quoted amount is held from the pool (a pending ledger
transfer) when the Checkout Session is created, converted into the match when the payment
settles, and released when the session expires or fails. No speed contest between donors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import Donation
from campaigns.matching import amounts, identity, pool, repository
from campaigns.matching.eligibility import Context, program_takes
from campaigns.matching.models import MatchingProgram, MatchQuote, Policy, QuoteStatus
from campaigns.matching.policies import EngagementTiersParams, FixedRatioParams, tier_ratio_bps
from service.money import apply_ratio_bps
from service.unit_of_work import UnitOfWork

QUOTED_POLICIES = frozenset({Policy.FIXED_RATIO, Policy.ENGAGEMENT_TIERS})
"""Policies whose match follows from the donor's own gift (a referral bonus or a challenge
belongs to the campaign's engagement, not to one donor's promise)."""


@dataclass(frozen=True)
class Offer:
    """A program's live offer on a campaign page."""

    program_name: str
    currency: str
    ratio_bps: int
    available_minor: int
    per_donation_cap_minor: int | None
    ends_at: datetime

    @property
    def ratio_text(self) -> str:
        """10_000 bps -> "1:1", 5_000 -> "50%", 15_000 -> "1.5:1" (integer arithmetic)."""
        if self.ratio_bps % 10_000 == 0:
            return f"{self.ratio_bps // 10_000}:1"
        if self.ratio_bps < 10_000:
            return f"{self.ratio_bps // 100}%" if self.ratio_bps % 100 == 0 else f"{self.ratio_bps} bps"
        whole, rest = divmod(self.ratio_bps, 10_000)
        return f"{whole}.{str(rest).rjust(4, '0').rstrip('0')}:1"

    def match_for(self, gift_minor: int) -> int:
        """What a gift of this size would unlock now (the quote at Checkout is the promise)."""
        room = [apply_ratio_bps(gift_minor, self.ratio_bps), self.available_minor]
        if self.per_donation_cap_minor is not None:
            room.append(self.per_donation_cap_minor)
        return max(min(room), 0)


@dataclass(frozen=True)
class HeldQuote:
    program_name: str
    currency: str
    amount_minor: int


async def live_offers(
    session: AsyncSession, *, ctx: Context, programs: Sequence[MatchingProgram]
) -> list[Offer]:
    """The programs that would match a gift to this campaign now, for the page to show.

    `programs` is repository.programs_for at the page's time (campaign_view queries it once
    for the offers and the challenges)."""
    offers = []
    for program in programs:
        if program.policy not in QUOTED_POLICIES or program_takes(program, ctx) is not None:
            continue
        ratio = await _ratio_bps(session, program, ctx=ctx)
        if program.available_minor > 0 and ratio > 0:
            offers.append(
                Offer(
                    program_name=program.name,
                    currency=program.currency,
                    ratio_bps=ratio,
                    available_minor=program.available_minor,
                    per_donation_cap_minor=program.per_donation_cap_minor,
                    ends_at=program.ends_at,
                )
            )
    return offers


async def _ratio_bps(session: AsyncSession, program: MatchingProgram, *, ctx: Context) -> int:
    if program.policy is Policy.FIXED_RATIO:
        return FixedRatioParams.model_validate(program.policy_params).ratio_bps
    tiers = EngagementTiersParams.model_validate(program.policy_params)
    referred = await repository.settled_clusters(
        session,
        campaign_id=ctx.campaign.id,
        since=program.starts_at,
        until=program.ends_at,
        referred_only=True,
    )
    return tier_ratio_bps(tiers, referred_donors=len(referred))


async def hold_quotes(
    session: UnitOfWork, *, donation: Donation, ctx: Context, at: datetime, expires_at: datetime
) -> list[HeldQuote]:
    """Quote and hold each program's match for a pending donation (caller owns the transaction)."""
    candidates = [
        p
        for p in await repository.programs_for(
            session, currency=donation.currency, campaign_id=donation.campaign_id, at=at
        )
        if p.policy in QUOTED_POLICIES and program_takes(p, ctx) is None
    ]
    if not candidates:
        return []
    cluster_id = await identity.lookup_cluster(session, identity.donation_keys(donation))
    if cluster_id is not None and await identity.is_owner_linked(
        session, cluster_id=cluster_id, nonprofit_id=donation.nonprofit_id
    ):
        return []
    held = []
    # The pending donation is already inserted: no one else can see, let alone wait on, it, and
    # its foreign keys' share locks do not conflict with FOR NO KEY UPDATE. So locking the
    # programs now keeps the global lock order (docs/architecture.md, "Lock order").
    for program in (await pool.lock_programs(session, (p.id for p in candidates))).values():
        if donation.amount_minor < program.min_donation_minor:
            continue
        offer = await amounts.donation_offer(
            session, program, donation, cluster_id=cluster_id, gift_minor=donation.amount_minor
        )
        if offer.amount_minor <= 0:
            continue
        quote = MatchQuote(
            program_id=program.id,
            donation_id=donation.id,
            campaign_id=donation.campaign_id,
            cluster_id=cluster_id,
            currency=program.currency,
            amount_minor=offer.amount_minor,
            status=QuoteStatus.HELD,
            expires_at=expires_at,
        )
        session.add(quote)
        await session.flush()
        await pool.hold_quote(session, program, quote)
        held.append(HeldQuote(program.name, program.currency, offer.amount_minor))
    return held
