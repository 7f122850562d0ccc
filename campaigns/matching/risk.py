"""Risk signals on a match: each has a weight, a threshold and a sentence a reviewer can read.

Signals are computed when a match is reserved and again when its hold period ends (new facts
may have arrived: a card fingerprint, a dispute elsewhere, a burst of look-alike donors).
A match whose signals weigh REVIEW_SCORE or more goes to a person instead of being approved.
Stripe's own verdicts (risk score above the program's limit, an early fraud warning) do not
ask for review: they make the donation ineligible outright (see eligibility).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from campaigns.donations.models import SETTLED, Donation
from campaigns.matching import identity
from campaigns.matching.models import (
    DonationCluster,
    IdentityKey,
    Match,
    MatchingProgram,
    MatchStatus,
    NonprofitIdentityKey,
)
from campaigns.nonprofits.models import Nonprofit
from campaigns.sharing.models import ShareLink

REVIEW_SCORE = 100


@dataclass(frozen=True)
class Thresholds:
    """What counts as unusual; an admin can tune these per deployment."""

    card_donations_per_day: int = 3
    device_donations_per_day: int = 3
    network_donations_per_hour: int = 8
    probation_days: int = 30
    spike_factor: int = 10
    spike_min_donations: int = 20
    referral_loop_depth: int = 8
    card_emails: int = 2
    flagged_matches: int = 3
    names_per_card_pct: int = 150


@dataclass(frozen=True)
class Signal:
    code: str
    weight: int
    sentence: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def assess(
    session: AsyncSession,
    *,
    program: MatchingProgram,
    donation: Donation | None,
    amount_minor: int,
    nonprofit: Nonprofit,
    at: datetime,
    thresholds: Thresholds = Thresholds(),
) -> list[Signal]:
    signals: list[Signal] = []
    if program.review_threshold_minor is not None and amount_minor >= program.review_threshold_minor:
        signals.append(
            Signal("amount_above_threshold", 100, "The match is at or above the program's review threshold.")
        )
    if nonprofit.verified_at is None or at - nonprofit.verified_at < timedelta(
        days=thresholds.probation_days
    ):
        signals.append(
            Signal(
                "new_nonprofit",
                40,
                f"The nonprofit was verified less than {thresholds.probation_days} days ago (probation).",
            )
        )
    if donation is None:
        if await _nonprofit_flagged(session, nonprofit_id=nonprofit.id, thresholds=thresholds):
            signals.append(
                Signal(
                    "nonprofit_flagged",
                    100,
                    f"At least {thresholds.flagged_matches} of the nonprofit's matches are held for donor"
                    " patterns (shared cards, referral loops, shared browsers).",
                )
            )
        return signals
    signals += await _donation_signals(session, donation=donation, at=at, thresholds=thresholds)
    signals += await _cluster_signals(session, donation=donation, thresholds=thresholds)
    if await _campaign_shares_cards(session, campaign_id=donation.campaign_id, thresholds=thresholds):
        # A ring's first gifts on each card look clean one by one; the campaign they all feed
        # does not: its donors' names far outnumber the cards that paid.
        signals.append(
            Signal(
                "campaign_shared_cards",
                100,
                "The campaign's donors gave under many more names than the cards they paid with.",
            )
        )
    if await _owner_login_network(session, donation):
        signals.append(
            Signal(
                "owner_login_network",
                100,
                "The gift came from a network the nonprofit's own people sign in from.",
            )
        )
    return signals


async def _campaign_shares_cards(
    session: AsyncSession, *, campaign_id: uuid.UUID, thresholds: Thresholds
) -> bool:
    """Settled gifts to the campaign carry at least 1.5 email addresses per paying card."""
    row = (
        await session.execute(
            sa.select(
                sa.func.count(sa.distinct(Donation.donor_email)),
                sa.func.count(sa.distinct(Donation.card_fingerprint)),
            ).where(
                Donation.campaign_id == campaign_id,
                Donation.status.in_(SETTLED),
                Donation.card_fingerprint.is_not(None),
                Donation.donor_email.is_not(None),
            )
        )
    ).one()
    emails, cards = int(row[0]), int(row[1])
    return emails >= 2 and emails * 100 >= thresholds.names_per_card_pct * cards


async def _owner_login_network(session: AsyncSession, donation: Donation) -> bool:
    if not donation.client_hash:
        return False
    kind, digest = identity.network_key(donation.client_hash)
    found = await session.scalar(
        sa.select(sa.literal(1))
        .where(
            NonprofitIdentityKey.nonprofit_id == donation.nonprofit_id,
            NonprofitIdentityKey.kind == kind,
            NonprofitIdentityKey.digest == digest,
        )
        .limit(1)
    )
    return found is not None


DONOR_PATTERNS = frozenset(
    {
        "card_velocity",
        "shared_device",
        "card_many_donors",
        "owner_network",
        "owner_login_network",
        "campaign_shared_cards",
        "referral_cycle",
        "referral_loop",
    }
)
"""Signals about who gave (rather than how much, or how new the nonprofit is)."""


async def _nonprofit_flagged(
    session: AsyncSession, *, nonprofit_id: uuid.UUID, thresholds: Thresholds
) -> bool:
    """A campaign-level match (quadratic share, challenge bonus) has no donor to look at: the
    donors it stands on are the nonprofit's, so their held matches count against it."""
    held = await session.scalars(
        sa.select(Match.risk_reasons).where(
            Match.nonprofit_id == nonprofit_id, Match.status == MatchStatus.HELD_FOR_REVIEW
        )
    )
    flagged = sum(1 for reasons in held if any(r.get("code") in DONOR_PATTERNS for r in reasons))
    return flagged >= thresholds.flagged_matches


async def _cluster_signals(
    session: AsyncSession, *, donation: Donation, thresholds: Thresholds
) -> list[Signal]:
    """What the donor's identity cluster (every gift linked by card, email or browser) shows."""
    cluster_id = await session.scalar(
        sa.select(DonationCluster.cluster_id).where(DonationCluster.donation_id == donation.id)
    )
    if cluster_id is None:
        return []
    signals: list[Signal] = []
    emails, networks = await _card_emails(session, donation)
    # A family shares one card at one home: several names on one network is a household.
    if emails > thresholds.card_emails and networks > 1:
        # Mailboxes and cookie-less browsers are free; cards are not. A ring rotates the free
        # keys and reuses its few cards, so the per-donor cap binds, but the ring still earns
        # the cap on every card: the card speaking for many names is the tell.
        signals.append(
            Signal(
                "card_many_donors", 100, f"The card paid for gifts under {emails} different email addresses."
            )
        )
    if await _owner_network(session, donation):
        signals.append(
            Signal(
                "owner_network",
                100,
                "Gifts to this nonprofit from the same network came from the nonprofit's own people.",
            )
        )
    if await _in_referral_loop(session, cluster_id=cluster_id, depth=thresholds.referral_loop_depth):
        signals.append(
            Signal(
                "referral_loop",
                100,
                "The donor is in a loop of donors bringing each other, through other donors or campaigns.",
            )
        )
    return signals


async def _card_emails(session: AsyncSession, donation: Donation) -> tuple[int, int]:
    """How many donors (normalised email addresses) a card paid for, from how many networks."""
    if not donation.card_fingerprint:
        return 0, 0
    rows = (
        await session.execute(
            sa.select(Donation.donor_email, Donation.client_hash)
            .where(
                Donation.card_fingerprint == donation.card_fingerprint,
                Donation.status.in_(SETTLED),
                Donation.donor_email.is_not(None),
            )
            .distinct()
        )
    ).all()
    emails = {identity.normalise_email(email) for email, _ in rows if email}
    networks = {network for _, network in rows if network}
    return len(emails), len(networks)


async def _owner_network(session: AsyncSession, donation: Donation) -> bool:
    """Whether a donor cluster linked to the nonprofit's own people gave to it from this network.

    An owner who gives through relatives' cards and fresh addresses from home shares the home
    network with the gifts the engine already recognised as theirs.
    """
    if not donation.client_hash:
        return False
    clusters = (
        sa.select(DonationCluster.cluster_id)
        .join(Donation, Donation.id == DonationCluster.donation_id)
        .where(
            Donation.client_hash == donation.client_hash,
            Donation.nonprofit_id == donation.nonprofit_id,
            Donation.id != donation.id,
        )
    )
    found = await session.scalar(
        sa.select(sa.literal(1))
        .select_from(IdentityKey)
        .where(
            IdentityKey.cluster_id.in_(clusters),
            await identity.owner_keys(session, nonprofit_id=donation.nonprofit_id),
        )
        .limit(1)
    )
    return found is not None


def _referred_by(clusters: set[uuid.UUID]) -> sa.Select[uuid.UUID]:
    """Clusters of settled donors brought by a personal link of a donor in `clusters`."""
    referrer = aliased(DonationCluster)
    referred = aliased(DonationCluster)
    return (
        sa.select(referred.cluster_id)
        .select_from(referrer)
        .join(ShareLink, ShareLink.donation_id == referrer.donation_id)
        .join(Donation, Donation.referral_link_id == ShareLink.id)
        .join(referred, referred.donation_id == Donation.id)
        .where(referrer.cluster_id.in_(clusters), Donation.status.in_(SETTLED))
        .distinct()
    )


async def _in_referral_loop(session: AsyncSession, *, cluster_id: uuid.UUID, depth: int) -> bool:
    """Whether following "brought" links from the donor leads back to the donor (any campaigns).

    A ring that rotates who brings whom across campaigns never refers back directly, so the
    two-donor check (_referral_cycle) misses it; the loop is there once the ring has gone round.
    """
    seen = {cluster_id}
    frontier = {cluster_id}
    for _ in range(depth):
        found = set((await session.scalars(_referred_by(frontier))).all())
        if cluster_id in found:
            return True
        frontier = found - seen
        if not frontier:
            return False
        seen |= frontier
    return False


async def _donation_signals(
    session: AsyncSession, *, donation: Donation, at: datetime, thresholds: Thresholds
) -> list[Signal]:
    signals: list[Signal] = []
    if donation.risk_level == "elevated":
        signals.append(
            Signal("stripe_elevated_risk", 60, "Stripe Radar rated the payment's risk as elevated.")
        )
    day = at - timedelta(days=1)
    if donation.card_fingerprint:
        n = await _count(session, Donation.card_fingerprint == donation.card_fingerprint, since=day)
        if n > thresholds.card_donations_per_day:
            signals.append(
                Signal("card_velocity", 100, f"The same card paid for {n} donations in the last 24 hours.")
            )
    if donation.device_hash:
        n = await _count(session, Donation.device_hash == donation.device_hash, since=day)
        if n > thresholds.device_donations_per_day:
            signals.append(
                Signal(
                    "shared_device", 100, f"{n} donations came from the same browser in the last 24 hours."
                )
            )
    if donation.client_hash:
        n = await _count(
            session,
            Donation.client_hash == donation.client_hash,
            Donation.campaign_id == donation.campaign_id,
            since=at - timedelta(hours=1),
        )
        if n > thresholds.network_donations_per_hour:
            signals.append(
                Signal(
                    "network_burst",
                    60,
                    f"{n} donations to this campaign came from one network in the last hour.",
                )
            )
    if await _referral_cycle(session, donation):
        signals.append(
            Signal("referral_cycle", 100, "The donor and the referrer brought each other to this campaign.")
        )
    if await _campaign_spike(session, donation=donation, at=at, thresholds=thresholds):
        signals.append(
            Signal(
                "campaign_spike",
                60,
                f"The campaign received over {thresholds.spike_factor} times its usual hourly donations.",
            )
        )
    return signals


async def _count(session: AsyncSession, *conditions: Any, since: datetime) -> int:
    n = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Donation)
        .where(*conditions, Donation.created_at >= since, Donation.status.in_(SETTLED))
    )
    return int(n or 0)


async def _referral_cycle(session: AsyncSession, donation: Donation) -> bool:
    """A's link brought B and B's link brought A (to the same campaign)."""
    if donation.referral_link_id is None:
        return False
    referrer_donation_id = await session.scalar(
        sa.select(ShareLink.donation_id).where(ShareLink.id == donation.referral_link_id)
    )
    if referrer_donation_id is None:
        return False
    back = await session.scalar(
        sa.select(sa.literal(1))
        .select_from(Donation)
        .join(ShareLink, ShareLink.id == Donation.referral_link_id)
        .where(Donation.id == referrer_donation_id, ShareLink.donation_id == donation.id)
    )
    return back is not None


async def _campaign_spike(
    session: AsyncSession, *, donation: Donation, at: datetime, thresholds: Thresholds
) -> bool:
    hour = await _count(session, Donation.campaign_id == donation.campaign_id, since=at - timedelta(hours=1))
    if hour < thresholds.spike_min_donations:
        return False
    week = await _count(session, Donation.campaign_id == donation.campaign_id, since=at - timedelta(days=7))
    # hour / 1 > factor * (week - hour) / 167 hours, in integers; the baseline is at least one a day.
    return hour * 167 > thresholds.spike_factor * max(week - hour, 7)


def reasons_json(signals: list[Signal]) -> list[dict[str, Any]]:
    return [s.as_json() for s in signals]
