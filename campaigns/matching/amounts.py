"""How much a settled donation earns from a program: the policy's raw figure, then the caps.

Everything here runs under the program's row lock, so the sums it reads (what the pool, a
campaign, a donor cluster or a referrer has already been given) cannot move underneath it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import SETTLED, Donation
from campaigns.matching import identity, repository
from campaigns.matching.models import IdentityKind, MatchingProgram, Policy
from campaigns.matching.policies import (
    EngagementTiersParams,
    FixedRatioParams,
    ReferralBonusParams,
    referral_bonus_minor,
    tier_ratio_bps,
)
from campaigns.sharing.models import ShareLink, ShareLinkKind
from service.money import apply_ratio_bps

DONATION_POLICIES = frozenset({Policy.FIXED_RATIO, Policy.ENGAGEMENT_TIERS, Policy.REFERRAL_BONUS})


@dataclass(frozen=True)
class Offer:
    amount_minor: int
    """What the donation earns after every cap and the pool's balance."""
    uncapped_minor: int
    """What the policy alone would give."""
    referrer_cluster_id: uuid.UUID | None = None


async def donation_offer(
    session: AsyncSession,
    program: MatchingProgram,
    donation: Donation,
    *,
    cluster_id: uuid.UUID | None,
    gift_minor: int,
    already_held_minor: int = 0,
) -> Offer:
    """The match for a gift of `gift_minor` under the program's caps and what the pool has.

    `already_held_minor` is a quote this donation holds and is about to give back to the
    pool, so it counts as available.
    """
    raw, referrer = await _raw(session, program, donation, cluster_id=cluster_id, gift_minor=gift_minor)
    if raw <= 0:
        return Offer(0, 0, referrer)
    room = [raw, program.available_minor + already_held_minor]
    if program.per_donation_cap_minor is not None:
        room.append(program.per_donation_cap_minor)
    if program.per_campaign_cap_minor is not None:
        used = await repository.committed_minor(
            session, program_id=program.id, campaign_id=donation.campaign_id, exclude_donation_id=donation.id
        )
        room.append(program.per_campaign_cap_minor - used)
    if program.per_donor_cap_minor is not None:
        # A donor not seen before (no cluster yet, at checkout) has the whole cap.
        used = 0
        if cluster_id is not None:
            used = await repository.committed_minor(
                session, program_id=program.id, cluster_id=cluster_id, exclude_donation_id=donation.id
            )
        room.append(program.per_donor_cap_minor - used)
    if referrer is not None:
        cap = ReferralBonusParams.model_validate(program.policy_params).per_referrer_cap_minor
        if cap is not None:
            used = await repository.committed_minor(
                session, program_id=program.id, referrer_cluster_id=referrer
            )
            room.append(cap - used)
    amount = max(min(room), 0)
    if amount < raw and not program.allow_partial:
        amount = 0
    return Offer(amount, raw, referrer)


async def _raw(
    session: AsyncSession,
    program: MatchingProgram,
    donation: Donation,
    *,
    cluster_id: uuid.UUID | None,
    gift_minor: int,
) -> tuple[int, uuid.UUID | None]:
    if program.policy is Policy.FIXED_RATIO:
        params = FixedRatioParams.model_validate(program.policy_params)
        return apply_ratio_bps(gift_minor, params.ratio_bps), None
    if program.policy is Policy.ENGAGEMENT_TIERS:
        tiers = EngagementTiersParams.model_validate(program.policy_params)
        referred = await repository.settled_clusters(
            session,
            campaign_id=donation.campaign_id,
            since=program.starts_at,
            until=program.ends_at,
            referred_only=True,
        )
        return apply_ratio_bps(gift_minor, tier_ratio_bps(tiers, referred_donors=len(referred))), None
    if program.policy is Policy.REFERRAL_BONUS:
        referrer = await referrer_cluster(session, donation, cluster_id=cluster_id)
        if referrer is None:
            return 0, None
        bonus = ReferralBonusParams.model_validate(program.policy_params)
        return referral_bonus_minor(bonus, donation_minor=gift_minor), referrer
    return 0, None


async def referrer_cluster(
    session: AsyncSession, donation: Donation, *, cluster_id: uuid.UUID | None
) -> uuid.UUID | None:
    """The cluster of the donor whose share link brought this one, when the referral counts.

    It counts when the link is another donor's personal link and that donor's gift settled, or a
    fundraiser's link (campaigns.fundraising: the fundraiser confirmed their address, whose
    identity key names their cluster); the two are not the same person (cluster), and the new
    donor had not given to this campaign.
    """
    if donation.referral_link_id is None or cluster_id is None:
        return None
    link = await session.scalar(sa.select(ShareLink).where(ShareLink.id == donation.referral_link_id))
    if link is None:
        return None
    referrer = await _link_owner_cluster(session, link)
    if referrer is None or referrer == cluster_id:
        return None
    earlier = await repository.donations_in_cluster(
        session, cluster_id=cluster_id, campaign_id=donation.campaign_id, exclude=donation.id
    )
    return referrer if earlier == 0 else None


async def _link_owner_cluster(session: AsyncSession, link: ShareLink) -> uuid.UUID | None:
    if link.kind is ShareLinkKind.FUNDRAISER and link.owner_email_digest is not None:
        return await identity.lookup_cluster(session, [(IdentityKind.EMAIL, link.owner_email_digest)])
    if link.kind is not ShareLinkKind.SUPPORTER or link.donation_id is None:
        return None
    referrer_status = await session.scalar(sa.select(Donation.status).where(Donation.id == link.donation_id))
    if referrer_status not in SETTLED:
        return None
    return await identity.cluster_of_donation(session, link.donation_id)
