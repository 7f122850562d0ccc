"""Quadratic funding for a matching round: the pool follows breadth of support, not size.

Pure and deterministic: integers only (no floats, not even in between), no clock, no I/O.

- Contributions are summed per (campaign, identity cluster) first, so one person's gift split
  over several accounts or donations counts exactly like the single gift.
- A cluster counts with effective = amount * trust_bps // 10_000 (rounded down).
- A campaign's score is the classic QF subsidy (sum of sqrt(effective))^2 - sum(effective),
  computed exactly in integers scaled by SQRT_SCALE: each root is isqrt(effective *
  SQRT_SCALE^2) = floor(sqrt(effective) * SQRT_SCALE), so the score is in units of
  minor * SQRT_SCALE^2. Campaigns backed by fewer than `min_distinct_donors` clusters with
  effective > 0 score 0; one donor alone never earns a match.
- The budget is split in proportion to the scores by largest remainder (service.money.allocate,
  ties to the lower campaign_id). A per-campaign cap is water-filled: campaigns whose exact
  share exceeds the cap are fixed at it and the rest is re-split over the others until no
  share exceeds it. Only when every scoring campaign is capped, or none scores, is part of
  the budget left unallocated.
- The result carries a sha256 of the canonical inputs (see `_INPUTS_VERSION` and
  `_canonical_inputs`) so a published round can be recomputed and checked.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from service.money import allocate

FULL_TRUST_BPS = 10_000
SQRT_SCALE = 10**6
# Part of the hashed encoding: bump it whenever the encoding or the scoring changes, so two
# rounds with equal hashes were always computed the same way.
_INPUTS_VERSION = "goodloop.quadratic_round.v1"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Contribution:
    """Settled, eligible money one identity cluster gave to one campaign in the round's window."""

    campaign_id: uuid.UUID
    cluster_id: uuid.UUID
    """Donor identity cluster: the donations and accounts of one person share it."""
    amount_minor: int
    trust_bps: int = FULL_TRUST_BPS
    """Trust weight of the cluster, 0..10_000; every contribution of a cluster carries the same."""

    def __post_init__(self) -> None:
        if not _is_int(self.amount_minor) or self.amount_minor <= 0:
            raise ValueError(f"amount_minor must be a positive integer, got {self.amount_minor!r}")
        if not _is_int(self.trust_bps) or not 0 <= self.trust_bps <= FULL_TRUST_BPS:
            raise ValueError(f"trust_bps must be an integer in 0..{FULL_TRUST_BPS}, got {self.trust_bps!r}")


@dataclass(frozen=True)
class CampaignTally:
    """How one campaign scored, for publishing next to its allocation."""

    campaign_id: uuid.UUID
    contributed_minor: int
    """Sum of the raw amounts, before trust weighting."""
    effective_minor: int
    """Sum of the trust-weighted amounts."""
    distinct_clusters: int
    """Clusters whose effective amount is > 0; only these count towards min_distinct_donors."""
    sqrt_sum_scaled: int
    """Sum over clusters of floor(sqrt(effective) * SQRT_SCALE)."""
    score_scaled: int
    """sqrt_sum_scaled^2 - effective_minor * SQRT_SCALE^2 (never below 0); 0 when not eligible."""
    eligible: bool
    """Backed by at least min_distinct_donors clusters."""
    capped: bool
    """Fixed at the per-campaign cap; its excess went to the other campaigns."""


@dataclass(frozen=True)
class RoundResult:
    allocations: dict[uuid.UUID, int]
    """Every campaign in the input, in campaign_id order, with its match (0 when it earned none)."""
    allocated_minor: int
    unallocated_minor: int
    """Budget nobody could take: no campaign scored, or every scoring campaign is capped."""
    inputs_hash: str
    campaigns: tuple[CampaignTally, ...]
    """One tally per campaign, in campaign_id order."""


def allocate_round(
    contributions: Iterable[Contribution],
    *,
    budget_minor: int,
    per_campaign_cap_minor: int | None,
    min_distinct_donors: int = 2,
) -> RoundResult:
    """Split budget_minor over the campaigns by quadratic funding; see the module docstring."""
    _check_parameters(budget_minor, per_campaign_cap_minor, min_distinct_donors)
    aggregated = _aggregate(contributions)
    by_campaign: dict[uuid.UUID, list[tuple[int, int]]] = {}
    for (campaign_id, _cluster_id), amount_and_trust in sorted(aggregated.items()):
        by_campaign.setdefault(campaign_id, []).append(amount_and_trust)
    scores = [
        _score_campaign(campaign_id, clusters, min_distinct_donors)
        for campaign_id, clusters in by_campaign.items()
    ]
    capped = _water_fill(
        [s.score_scaled for s in scores], budget_minor=budget_minor, cap_minor=per_campaign_cap_minor
    )
    parts = _split(
        [s.score_scaled for s in scores], capped, budget_minor=budget_minor, cap_minor=per_campaign_cap_minor
    )
    allocated = sum(parts)
    return RoundResult(
        allocations={s.campaign_id: part for s, part in zip(scores, parts, strict=True)},
        allocated_minor=allocated,
        unallocated_minor=budget_minor - allocated,
        inputs_hash=hashlib.sha256(
            _canonical_inputs(aggregated, budget_minor, per_campaign_cap_minor, min_distinct_donors)
        ).hexdigest(),
        campaigns=tuple(replace(s, capped=i in capped) for i, s in enumerate(scores)),
    )


def _check_parameters(budget_minor: int, cap_minor: int | None, min_distinct_donors: int) -> None:
    if not _is_int(budget_minor) or budget_minor < 0:
        raise ValueError(f"budget_minor must be an integer >= 0, got {budget_minor!r}")
    if cap_minor is not None and (not _is_int(cap_minor) or cap_minor <= 0):
        raise ValueError(f"per_campaign_cap_minor must be None or an integer > 0, got {cap_minor!r}")
    if not _is_int(min_distinct_donors) or min_distinct_donors < 1:
        raise ValueError(f"min_distinct_donors must be an integer >= 1, got {min_distinct_donors!r}")


def _aggregate(contributions: Iterable[Contribution]) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[int, int]]:
    """(campaign, cluster) -> (summed amount, trust); one trust per cluster, or ValueError."""
    trust_by_cluster: dict[uuid.UUID, int] = {}
    amounts: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for c in contributions:
        trust = trust_by_cluster.setdefault(c.cluster_id, c.trust_bps)
        if trust != c.trust_bps:
            # Averaging or picking one would make the result depend on how the gift was split.
            raise ValueError(f"cluster {c.cluster_id} has contributions with different trust_bps")
        key = (c.campaign_id, c.cluster_id)
        amounts[key] = amounts.get(key, 0) + c.amount_minor
    return {key: (amount, trust_by_cluster[key[1]]) for key, amount in amounts.items()}


def _score_campaign(
    campaign_id: uuid.UUID, clusters: list[tuple[int, int]], min_distinct_donors: int
) -> CampaignTally:
    effective = [amount * trust // FULL_TRUST_BPS for amount, trust in clusters]
    positive = [e for e in effective if e > 0]
    sqrt_sum = sum(math.isqrt(e * SQRT_SCALE**2) for e in positive)
    eligible = len(positive) >= min_distinct_donors
    # Flooring each root can push a lone cluster's score a hair below 0; the subsidy is 0 then.
    score = max(0, sqrt_sum * sqrt_sum - sum(positive) * SQRT_SCALE**2) if eligible else 0
    return CampaignTally(
        campaign_id=campaign_id,
        contributed_minor=sum(amount for amount, _trust in clusters),
        effective_minor=sum(effective),
        distinct_clusters=len(positive),
        sqrt_sum_scaled=sqrt_sum,
        score_scaled=score,
        eligible=eligible,
        capped=False,
    )


def _water_fill(scores: list[int], *, budget_minor: int, cap_minor: int | None) -> frozenset[int]:
    """Indexes fixed at the cap: repeat until no uncapped exact share exceeds the cap.

    Capping a campaign only raises the others' shares, so the loop ends within len(scores) rounds
    and a campaign once capped stays capped.
    """
    capped: set[int] = set()
    if cap_minor is None:
        return frozenset()
    while True:
        remaining = budget_minor - cap_minor * len(capped)
        weight = sum(s for i, s in enumerate(scores) if i not in capped)
        over = {
            i
            for i, s in enumerate(scores)
            if i not in capped and s > 0 and remaining * s > cap_minor * weight
        }
        if not over:
            return frozenset(capped)
        capped |= over


def _split(
    scores: list[int], capped: frozenset[int], *, budget_minor: int, cap_minor: int | None
) -> list[int]:
    # After water-filling no uncapped exact share exceeds the cap, so largest remainder (which
    # rounds a share up only when it has a fraction) cannot push one over it either.
    remaining = budget_minor - (cap_minor or 0) * len(capped)
    parts = allocate(remaining, [0 if i in capped else s for i, s in enumerate(scores)])
    return [cap_minor if i in capped and cap_minor is not None else part for i, part in enumerate(parts)]


def _canonical_inputs(
    aggregated: dict[tuple[uuid.UUID, uuid.UUID], tuple[int, int]],
    budget_minor: int,
    cap_minor: int | None,
    min_distinct_donors: int,
) -> bytes:
    """Compact, key-sorted JSON; contributions are [campaign, cluster, amount, trust] per pair."""
    document = {
        "version": _INPUTS_VERSION,
        "budget_minor": budget_minor,
        "per_campaign_cap_minor": cap_minor,
        "min_distinct_donors": min_distinct_donors,
        "contributions": [
            [str(campaign_id), str(cluster_id), amount, trust]
            for (campaign_id, cluster_id), (amount, trust) in sorted(aggregated.items())
        ],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("ascii")
