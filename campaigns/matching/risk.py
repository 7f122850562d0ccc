"""Risk signals on a match: each has a weight, a threshold and a sentence a reviewer can read.

Signals are computed when a match is reserved and again when its hold period ends (new facts
may have arrived: a card fingerprint, a dispute elsewhere, a burst of look-alike donors).
A match whose signals weigh REVIEW_SCORE or more goes to a person instead of being approved.
Stripe's own verdicts (risk score above the program's limit, an early fraud warning) do not
ask for review: they make the donation ineligible outright (see eligibility).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import SETTLED, Donation
from campaigns.matching.models import MatchingProgram
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
        return signals
    signals += await _donation_signals(session, donation=donation, at=at, thresholds=thresholds)
    return signals


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


def needs_review(signals: list[Signal]) -> bool:
    return sum(s.weight for s in signals) >= REVIEW_SCORE


def reasons_json(signals: list[Signal]) -> list[dict[str, Any]]:
    return [s.as_json() for s in signals]
