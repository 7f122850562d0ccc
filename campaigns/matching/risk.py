"""Risk signals on a match: each has a weight, a threshold and a sentence a reviewer can read.

Signals are computed when a match is reserved and again when its hold period ends (new facts
may have arrived: a card fingerprint, a dispute elsewhere, a burst of look-alike donors).
A match whose signals weigh REVIEW_SCORE or more goes to a person instead of being approved.
Weights, thresholds and on/off come from `risk_settings` (defaults in code, admin overrides in
the database). Stripe's hardest verdicts (a score above the program's own limit, an early fraud
warning) do not ask for review: they make the donation ineligible outright (see eligibility);
a Radar score below that limit but above the signal's threshold is a weighted signal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from campaigns.donations.models import SETTLED, Donation
from campaigns.matching import identity, risk_settings
from campaigns.matching.models import (
    DonationCluster,
    IdentityKey,
    IdentityKind,
    Match,
    MatchingProgram,
    MatchStatus,
    NonprofitIdentityKey,
)
from campaigns.matching.risk_settings import RiskConfig
from campaigns.nonprofits.models import Nonprofit
from campaigns.sharing.models import ShareLink

REVIEW_SCORE = 100


@dataclass(frozen=True)
class Signal:
    code: str
    weight: int
    sentence: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def reason_codes(reasons: Sequence[dict[str, Any]]) -> list[str]:
    """The codes of stored risk reasons, in their order."""
    return [str(r.get("code", "")) for r in reasons]


def total_weight(reasons: Sequence[dict[str, Any]]) -> int:
    """What stored risk reasons weigh together (REVIEW_SCORE or more goes to a person)."""
    return sum(int(r.get("weight", 0)) for r in reasons)


LOW_RISK_TOTAL = REVIEW_SCORE * 3 // 2


def is_low_risk(reasons: list[dict[str, Any]]) -> bool:
    """Low enough for a bulk decision: no signal that would send the match to a person on its
    own, and not many weak ones together."""
    weights = [int(r.get("weight", 0)) for r in reasons]
    return all(w < REVIEW_SCORE for w in weights) and sum(weights) < LOW_RISK_TOTAL


class _Collector:
    """Signals as configured: a switched-off signal is never added; the weight is the admin's."""

    def __init__(self, config: RiskConfig) -> None:
        self.config = config
        self.signals: list[Signal] = []

    def wants(self, code: str) -> bool:
        return self.config.weight(code) is not None

    def add(self, code: str, sentence: str) -> None:
        weight = self.config.weight(code)
        if weight is not None:
            self.signals.append(Signal(code, weight, sentence))


async def assess(
    session: AsyncSession,
    *,
    program: MatchingProgram,
    donation: Donation | None,
    amount_minor: int,
    nonprofit: Nonprofit,
    at: datetime,
    config: RiskConfig | None = None,
) -> list[Signal]:
    cfg = config or await risk_settings.load(session)
    out = _Collector(cfg)
    if program.review_threshold_minor is not None and amount_minor >= program.review_threshold_minor:
        out.add("amount_above_threshold", "The match is at or above the program's review threshold.")
    probation = cfg.threshold("new_nonprofit")
    if nonprofit.verified_at is None or at - nonprofit.verified_at < timedelta(days=probation):
        out.add("new_nonprofit", f"The nonprofit was verified less than {probation} days ago (probation).")
    if donation is None:
        flagged = cfg.threshold("nonprofit_flagged")
        if out.wants("nonprofit_flagged") and await _nonprofit_flagged(
            session, nonprofit_id=nonprofit.id, flagged_matches=flagged
        ):
            out.add(
                "nonprofit_flagged",
                f"At least {flagged} of the nonprofit's matches are held for donor patterns"
                " (shared cards, referral loops, shared browsers) or gifts came from its own people.",
            )
        return out.signals
    await _donation_signals(session, out, donation=donation, at=at)
    await _cluster_signals(session, out, donation=donation)
    if out.wants("nonprofit_self_dealing"):
        own = await _own_people_gifts(session, nonprofit_id=nonprofit.id, since=program.starts_at)
        if own >= cfg.threshold("nonprofit_self_dealing"):
            # A relative who gives once, from their own card and network, looks like any donor;
            # the nonprofit whose people were caught giving to it again and again does not.
            out.add(
                "nonprofit_self_dealing",
                f"{own} gifts to the nonprofit since the program started came from its own people"
                " (their emails, cards or browsers, or networks they sign in from).",
            )
    if out.wants("campaign_shared_cards") and await _campaign_shares_cards(
        session, campaign_id=donation.campaign_id, names_per_card_pct=cfg.threshold("campaign_shared_cards")
    ):
        # A ring's first gifts on each card look clean one by one; the campaign they all feed
        # does not: its donors' names far outnumber the cards that paid.
        out.add(
            "campaign_shared_cards",
            "The campaign's donors gave under many more names than the cards they paid with.",
        )
    if out.wants("owner_login_network") and await _owner_login_network(session, donation):
        out.add(
            "owner_login_network",
            "The donor gave (this gift or another linked by card, email or browser) from a network"
            " the nonprofit's own people sign in from.",
        )
    return out.signals


async def _campaign_shares_cards(
    session: AsyncSession, *, campaign_id: uuid.UUID, names_per_card_pct: int
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
    return emails >= 2 and emails * 100 >= names_per_card_pct * cards


async def _owner_login_network(session: AsyncSession, donation: Donation) -> bool:
    """Whether the gift, or any gift of the same donor (identity cluster), came from a network the
    nonprofit's own people sign in from.

    An owner who has relatives give from home, and the same relatives again from elsewhere, is
    seen at home once: every gift of that donor is theirs, not only the one made from home.
    """
    networks: sa.Select[Any] | list[str | None] = [donation.client_hash]
    cluster_id = await session.scalar(
        sa.select(DonationCluster.cluster_id).where(DonationCluster.donation_id == donation.id)
    )
    if cluster_id is not None:
        networks = (
            sa.select(Donation.client_hash)
            .join(DonationCluster, DonationCluster.donation_id == Donation.id)
            .where(DonationCluster.cluster_id == cluster_id, Donation.client_hash.is_not(None))
        )
    elif not donation.client_hash:
        return False
    found = await session.scalar(
        sa.select(sa.literal(1))
        .where(
            NonprofitIdentityKey.nonprofit_id == donation.nonprofit_id,
            NonprofitIdentityKey.kind == IdentityKind.NETWORK,
            NonprofitIdentityKey.digest.in_(networks),
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


async def _nonprofit_flagged(session: AsyncSession, *, nonprofit_id: uuid.UUID, flagged_matches: int) -> bool:
    """A campaign-level match (quadratic share, challenge bonus) has no donor to look at: the
    donors it stands on are the nonprofit's, so their held matches count against it, and so do
    gifts its own people made to it (never matched, so they leave no match to count): an owner
    who tops up their own campaign through relatives' cards is caught on some gifts, and the
    breadth those gifts add to a round is exactly what self-dealing is after."""
    held = await session.scalars(
        sa.select(Match.risk_reasons).where(
            Match.nonprofit_id == nonprofit_id, Match.status == MatchStatus.HELD_FOR_REVIEW
        )
    )
    flagged = sum(1 for reasons in held if any(r.get("code") in DONOR_PATTERNS for r in reasons))
    if flagged >= flagged_matches:
        return True
    return flagged + await _own_people_gifts(session, nonprofit_id=nonprofit_id) >= flagged_matches


async def _own_people_gifts(
    session: AsyncSession, *, nonprofit_id: uuid.UUID, since: datetime | None = None
) -> int:
    """Settled gifts to the nonprofit from its own people: donors linked to them (the owner_linked
    rule), or gifts made from a network they sign in from."""
    linked = (
        sa.select(IdentityKey.cluster_id)
        .where(await identity.owner_keys(session, nonprofit_id=nonprofit_id))
        .scalar_subquery()
    )
    login_networks = sa.select(NonprofitIdentityKey.digest).where(
        NonprofitIdentityKey.nonprofit_id == nonprofit_id, NonprofitIdentityKey.kind == IdentityKind.NETWORK
    )
    query = (
        sa.select(sa.func.count(sa.distinct(Donation.id)))
        .select_from(Donation)
        .outerjoin(DonationCluster, DonationCluster.donation_id == Donation.id)
        .where(
            Donation.nonprofit_id == nonprofit_id,
            Donation.status.in_(SETTLED),
            sa.or_(DonationCluster.cluster_id.in_(linked), Donation.client_hash.in_(login_networks)),
        )
    )
    if since is not None:
        query = query.where(Donation.created_at >= since)
    return int(await session.scalar(query) or 0)


async def _cluster_signals(session: AsyncSession, out: _Collector, *, donation: Donation) -> None:
    """What the donor's identity cluster (every gift linked by card, email or browser) shows."""
    cluster_id = await session.scalar(
        sa.select(DonationCluster.cluster_id).where(DonationCluster.donation_id == donation.id)
    )
    if cluster_id is None:
        return
    if out.wants("card_many_donors"):
        emails, networks = await _card_emails(session, donation)
        # A family shares one card at one home: several names on one network is a household.
        if emails > out.config.threshold("card_many_donors") and networks > 1:
            # Mailboxes and cookie-less browsers are free; cards are not. A ring rotates the free
            # keys and reuses its few cards, so the per-donor cap binds, but the ring still earns
            # the cap on every card: the card speaking for many names is the tell.
            out.add("card_many_donors", f"The card paid for gifts under {emails} different email addresses.")
    if out.wants("owner_network") and await _owner_network(session, donation):
        out.add(
            "owner_network",
            "Gifts to this nonprofit from the same network came from the nonprofit's own people.",
        )
    if out.wants("referral_loop") and await _in_referral_loop(
        session, cluster_id=cluster_id, depth=out.config.threshold("referral_loop")
    ):
        out.add(
            "referral_loop",
            "The donor is in a loop of donors bringing each other, through other donors or campaigns.",
        )


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
    session: AsyncSession, out: _Collector, *, donation: Donation, at: datetime
) -> None:
    cfg = out.config
    score = donation.risk_score
    if donation.risk_level == "elevated" or (
        score is not None and score >= cfg.threshold("stripe_risk_score")
    ):
        scored = (
            f" scored the payment {score}" if score is not None else " rated the payment's risk as elevated"
        )
        out.add(
            "stripe_risk_score",
            f"Stripe Radar{scored} (the signal's threshold is {cfg.threshold('stripe_risk_score')}).",
        )
    day = at - timedelta(days=1)
    if donation.card_fingerprint and out.wants("card_velocity"):
        n = await _count(session, Donation.card_fingerprint == donation.card_fingerprint, since=day)
        if n > cfg.threshold("card_velocity"):
            out.add("card_velocity", f"The same card paid for {n} donations in the last 24 hours.")
    if donation.device_hash and out.wants("shared_device"):
        n = await _count(session, Donation.device_hash == donation.device_hash, since=day)
        if n > cfg.threshold("shared_device"):
            out.add("shared_device", f"{n} donations came from the same browser in the last 24 hours.")
    if donation.client_hash and out.wants("network_burst"):
        n = await _count(
            session,
            Donation.client_hash == donation.client_hash,
            Donation.campaign_id == donation.campaign_id,
            since=at - timedelta(hours=1),
        )
        if n > cfg.threshold("network_burst"):
            out.add(
                "network_burst", f"{n} donations to this campaign came from one network in the last hour."
            )
    if out.wants("referral_cycle") and await _referral_cycle(session, donation):
        out.add("referral_cycle", "The donor and the referrer brought each other to this campaign.")
    factor = cfg.threshold("campaign_spike")
    spike = (
        await _campaign_spike(session, donation=donation, at=at, factor=factor)
        if out.wants("campaign_spike")
        else None
    )
    if spike is not None:
        out.add(
            "campaign_spike",
            f"The campaign received over {factor} times its usual hourly donations in the last hour,"
            f" {spike.gifts} gifts from only {spike.donors} distinct donors.",
        )


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


SPIKE_MIN_DONATIONS = 20
"""A quiet campaign's first busy hour is not a spike: fewer donations than this never are."""

CROWD_DONORS_PCT = 50
"""A burst is a crowd when its distinct donors (identity clusters) are at least this share of its
gifts. A viral day is hundreds of people each giving once; a ring is a few cards (and so a few
clusters) behind many mailboxes and cookies, far below half."""


@dataclass(frozen=True)
class Burst:
    gifts: int
    donors: int
    """Distinct identity clusters behind the gifts (a gift not yet linked counts as its own)."""

    @property
    def few_people(self) -> bool:
        return self.donors * 100 < CROWD_DONORS_PCT * self.gifts


async def _burst(session: AsyncSession, *conditions: Any, since: datetime) -> Burst:
    """Settled gifts matching `conditions` since `since`, and how many distinct donors gave them."""
    donor = sa.func.coalesce(DonationCluster.cluster_id, Donation.id)
    row = (
        await session.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(donor)))
            .select_from(Donation)
            .outerjoin(DonationCluster, DonationCluster.donation_id == Donation.id)
            .where(*conditions, Donation.created_at >= since, Donation.status.in_(SETTLED))
        )
    ).one()
    return Burst(gifts=int(row[0]), donors=int(row[1]))


async def _campaign_spike(
    session: AsyncSession, *, donation: Donation, at: datetime, factor: int
) -> Burst | None:
    """The last hour's gifts when they are a spike made of few people (None otherwise).

    Volume alone is what a campaign going viral looks like; what a ring cannot fake cheaply is
    many distinct cards, browsers and mailboxes, so a spike only counts when few donors make it.
    """
    hour = await _burst(session, Donation.campaign_id == donation.campaign_id, since=at - timedelta(hours=1))
    if hour.gifts < SPIKE_MIN_DONATIONS or not hour.few_people:
        return None
    week = await _count(session, Donation.campaign_id == donation.campaign_id, since=at - timedelta(days=7))
    # hour / 1 > factor * (week - hour) / 167 hours, in integers; the baseline is at least one a day.
    return hour if hour.gifts * 167 > factor * max(week - hour.gifts, 7) else None


def reasons_json(signals: list[Signal]) -> list[dict[str, Any]]:
    return [s.as_json() for s in signals]
