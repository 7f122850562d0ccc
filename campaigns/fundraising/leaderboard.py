"""Fundraisers' and teams' standings: distinct donors first, money second.

What counts (issue #15, "Leaderboards"):

- Only settled gifts (confirmed or partly refunded) that came through a page
  (`fundraiser_donations`), net of refunds.
- A donor is an identity cluster, as matching counts them (campaigns.matching.identity): gifts
  that share a normalised email, a card fingerprint or a device, or that matching already put in
  one cluster (`donation_clusters`, which also knows merges made through gifts elsewhere), are
  one person. Matching links only gifts that a program looked at, so the grouping is redone here
  over the campaign's attributed gifts with the same keys (a union-find in memory): a person
  giving five times under five addresses with one card is one donor, and so is a sock-puppet
  ring sharing a card or a device; it cannot climb.
- Donors excluded from matching do not count toward a rank: people linked to the nonprofit's
  own (a member's email, or a key remembered for the nonprofit), and payments Stripe flagged (an
  early fraud warning, Radar's elevated or highest risk). Their money still shows as raised.
- Ties are broken by who reached that count (or amount) first, then by the older page.
- Never more than the top 50.

Everything comes from the campaign's rows in a few queries (attributed gifts with their
clusters; the nonprofit's own keys), so the numbers are never out of step with refunds or
cluster merges. Milestones (first donor, 10 donors, goal reached) are derived from the same
pass for the same reason, with the time each was reached: nothing to record, and a refund or an
exclusion that takes a page back below a milestone is reflected at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.models import SETTLED, Donation
from campaigns.fundraising.models import Fundraiser, FundraiserDonation, FundraiserStatus, FundraiserTeam
from campaigns.matching import identity
from campaigns.matching.eligibility import net_gift_minor
from campaigns.matching.models import DonationCluster, NonprofitIdentityKey
from campaigns.nonprofits.models import Member

TOP = 50
MILESTONE_DONORS = 10
_STRIPE_FLAGGED_LEVELS = frozenset({"elevated", "highest"})
Of = Literal["fundraisers", "teams"]
By = Literal["donors", "amount"]


@dataclass
class Tally:
    """One page's (or team's) standing."""

    donors: int = 0
    """Distinct donors who count toward a rank."""
    raised_minor: int = 0
    """Every settled gift through it, net of refunds (excluded donors' money included)."""
    ranked_minor: int = 0
    """What counting donors gave: the amount ranking."""
    donors_at: datetime | None = None
    """When the donor count reached its present value."""
    ranked_at: datetime | None = None
    """When the counted amount last grew."""
    donor_times: list[datetime] = field(default_factory=list)
    """When each counted donor first gave, in order (milestones)."""
    raised_times: list[tuple[datetime, int]] = field(default_factory=list)
    """Running raised total after each gift, in order (the goal milestone)."""
    _seen: set[int] = field(default_factory=set)

    def add(self, *, person: int, counts: bool, net_minor: int, at: datetime) -> None:
        self.raised_minor += net_minor
        self.raised_times.append((at, self.raised_minor))
        if not counts:
            return
        if net_minor > 0:
            self.ranked_minor += net_minor
            self.ranked_at = at
        if person not in self._seen:
            self._seen.add(person)
            self.donors += 1
            self.donors_at = at
            self.donor_times.append(at)


@dataclass(frozen=True)
class CampaignTally:
    fundraisers: dict[uuid.UUID, Tally]
    teams: dict[uuid.UUID, Tally]

    def of_fundraiser(self, fundraiser_id: uuid.UUID) -> Tally:
        return self.fundraisers.get(fundraiser_id) or Tally()

    def of_team(self, team_id: uuid.UUID) -> Tally:
        return self.teams.get(team_id) or Tally()


@dataclass(frozen=True)
class Milestone:
    kind: Literal["first_donor", "ten_donors", "goal_reached"]
    reached_at: datetime


@dataclass(frozen=True)
class Entry:
    rank: int
    subject: Fundraiser | FundraiserTeam
    tally: Tally


_Row = tuple[uuid.UUID, uuid.UUID | None, Donation, uuid.UUID | None]
"""fundraiser id, team id at the time of giving, the donation, its matching cluster (if any)"""


class _People:
    """Union-find over identity keys: which gifts are one person."""

    def __init__(self) -> None:
        self._parent: dict[int, int] = {}
        self._by_key: dict[object, int] = {}

    def _find(self, x: int) -> int:
        while self._parent[x] != x:
            self._parent[x] = self._parent[self._parent[x]]
            x = self._parent[x]
        return x

    def add(self, gift: int, keys: Iterable[object]) -> None:
        self._parent[gift] = gift
        for key in keys:
            other = self._by_key.setdefault(key, gift)
            a, b = self._find(gift), self._find(other)
            if a != b:
                self._parent[max(a, b)] = min(a, b)

    def person(self, gift: int) -> int:
        return self._find(gift)


def _keys(donation: Donation, cluster_id: uuid.UUID | None) -> list[object]:
    keys: list[object] = list(identity.donation_keys(donation))
    if cluster_id is not None:
        keys.append(("cluster", cluster_id))
    return keys


async def tally_campaign(
    session: AsyncSession, *, campaign_id: uuid.UUID, nonprofit_id: uuid.UUID
) -> CampaignTally:
    rows: list[_Row] = [
        (r[0], r[1], r[2], r[3])
        for r in await session.execute(
            sa.select(
                FundraiserDonation.fundraiser_id,
                FundraiserDonation.team_id,
                Donation,
                DonationCluster.cluster_id,
            )
            .join(Donation, Donation.id == FundraiserDonation.donation_id)
            .outerjoin(DonationCluster, DonationCluster.donation_id == Donation.id)
            .where(FundraiserDonation.campaign_id == campaign_id, Donation.status.in_(SETTLED))
            .order_by(Donation.confirmed_at, Donation.created_at, Donation.id)
        )
    ]
    people = _People()
    for index, (_, _, donation, cluster_id) in enumerate(rows):
        people.add(index, _keys(donation, cluster_id))
    owned = await _owner_people(session, nonprofit_id=nonprofit_id, rows=rows, people=people)
    fundraisers: dict[uuid.UUID, Tally] = {}
    teams: dict[uuid.UUID, Tally] = {}
    for index, (fundraiser_id, team_id, donation, _) in enumerate(rows):
        person = people.person(index)
        counts = person not in owned and not _stripe_flagged(donation)
        at = donation.confirmed_at or donation.created_at
        net = net_gift_minor(donation)
        fundraisers.setdefault(fundraiser_id, Tally()).add(person=person, counts=counts, net_minor=net, at=at)
        if team_id is not None:
            teams.setdefault(team_id, Tally()).add(person=person, counts=counts, net_minor=net, at=at)
    return CampaignTally(fundraisers=fundraisers, teams=teams)


def _stripe_flagged(donation: Donation) -> bool:
    return donation.early_fraud_warning or (donation.risk_level or "") in _STRIPE_FLAGGED_LEVELS


async def _owner_people(
    session: AsyncSession,
    *,
    nonprofit_id: uuid.UUID,
    rows: list[_Row],
    people: _People,
) -> set[int]:
    """The people (union-find roots) linked to the nonprofit's own: a member's email or a key
    remembered for the nonprofit among their gifts' keys, or a cluster matching found linked."""
    if not rows:
        return set()
    member_emails = (
        await session.scalars(sa.select(Member.email).where(Member.nonprofit_id == nonprofit_id))
    ).all()
    own_keys: set[object] = {identity.email_key(email) for email in member_emails}
    remembered = await session.execute(
        sa.select(NonprofitIdentityKey.kind, NonprofitIdentityKey.digest).where(
            NonprofitIdentityKey.nonprofit_id == nonprofit_id
        )
    )
    own_keys |= {(kind, digest) for kind, digest in remembered}
    clusters = {cluster_id for *_, cluster_id in rows if cluster_id is not None}
    linked = await identity.owner_linked_clusters(session, cluster_ids=clusters, nonprofit_id=nonprofit_id)
    own_keys |= {("cluster", c) for c in linked}
    owned: set[int] = set()
    for index, (_, _, donation, cluster_id) in enumerate(rows):
        if any(key in own_keys for key in _keys(donation, cluster_id)):
            owned.add(people.person(index))
    return owned


def milestones(tally: Tally, *, goal_minor: int | None) -> list[Milestone]:
    found: list[Milestone] = []
    if tally.donor_times:
        found.append(Milestone("first_donor", tally.donor_times[0]))
    if len(tally.donor_times) >= MILESTONE_DONORS:
        found.append(Milestone("ten_donors", tally.donor_times[MILESTONE_DONORS - 1]))
    if goal_minor is not None and tally.raised_minor >= goal_minor:
        # The gift after which the total has stayed at or above the goal.
        reached = next(at for at, total in _since_last_below(tally.raised_times, goal_minor))
        found.append(Milestone("goal_reached", reached))
    return sorted(found, key=lambda m: m.reached_at)


def _since_last_below(times: list[tuple[datetime, int]], goal_minor: int) -> list[tuple[datetime, int]]:
    start = 0
    for i, (_, total) in enumerate(times):
        if total < goal_minor:
            start = i + 1
    return times[start:]


def rank(
    subjects: Iterable[Fundraiser | FundraiserTeam],
    tally_of: dict[uuid.UUID, Tally],
    *,
    by: By,
    limit: int = TOP,
) -> list[Entry]:
    """The top `limit` (never above 50) by donors (default) or counted amount; ties: who got there first."""
    far_future = datetime.max.replace(tzinfo=UTC)

    def key(subject: Fundraiser | FundraiserTeam) -> tuple[int, datetime, datetime, str]:
        tally = tally_of.get(subject.id) or Tally()
        if by == "amount":
            score, reached = tally.ranked_minor, tally.ranked_at
        else:
            score, reached = tally.donors, tally.donors_at
        return (-score, reached or far_future, subject.created_at, str(subject.id))

    ordered = sorted(subjects, key=key)[: max(0, min(limit, TOP))]
    return [Entry(rank=i + 1, subject=s, tally=tally_of.get(s.id) or Tally()) for i, s in enumerate(ordered)]


async def leaderboard(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    nonprofit_id: uuid.UUID,
    of: Of = "fundraisers",
    by: By = "donors",
    limit: int = TOP,
) -> list[Entry]:
    """Live pages (or teams with a live page) of the campaign, ranked."""
    tally = await tally_campaign(session, campaign_id=campaign_id, nonprofit_id=nonprofit_id)
    if of == "teams":
        teams = (
            await session.scalars(
                sa.select(FundraiserTeam).where(
                    FundraiserTeam.campaign_id == campaign_id,
                    sa.exists().where(
                        Fundraiser.team_id == FundraiserTeam.id, Fundraiser.status == FundraiserStatus.LIVE
                    ),
                )
            )
        ).all()
        return rank(teams, tally.teams, by=by, limit=limit)
    live = (
        await session.scalars(
            sa.select(Fundraiser).where(
                Fundraiser.campaign_id == campaign_id, Fundraiser.status == FundraiserStatus.LIVE
            )
        )
    ).all()
    return rank(live, tally.fundraisers, by=by, limit=limit)
