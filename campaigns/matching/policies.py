"""The five matching policies: their parameters (validated shapes) and their arithmetic.

Ratios are integer basis points (10_000 = 1:1); every amount is integer minor units and
rounds down, so a match never promises a fraction it cannot pay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from service.money import apply_ratio_bps

RatioBps = Annotated[int, Field(ge=1, le=100_000, description="10000 = 1:1")]
Minor = Annotated[int, Field(ge=1, le=10**12)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FixedRatioParams(_Params):
    policy: Literal["fixed_ratio"] = "fixed_ratio"
    ratio_bps: RatioBps


class ReferralBonusParams(_Params):
    policy: Literal["referral_bonus"] = "referral_bonus"
    bonus_minor: Minor | None = None
    """A flat bonus per referred donation..."""
    bonus_bps: RatioBps | None = None
    """...or a percentage of the referred donation."""
    per_referrer_cap_minor: Minor | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ReferralBonusParams:
        if (self.bonus_minor is None) == (self.bonus_bps is None):
            raise ValueError("give exactly one of bonus_minor (flat) or bonus_bps (percentage)")
        return self


class ChallengeUnlockParams(_Params):
    policy: Literal["challenge_unlock"] = "challenge_unlock"
    bonus_minor: Minor
    target_donors: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    target_minor: Minor | None = None
    deadline: AwareDatetime
    mode: Literal["all_or_nothing", "pro_rata"] = "all_or_nothing"

    @model_validator(mode="after")
    def _one_target(self) -> ChallengeUnlockParams:
        if (self.target_donors is None) == (self.target_minor is None):
            raise ValueError("give exactly one of target_donors or target_minor")
        return self


class Tier(_Params):
    min_referred_donors: Annotated[int, Field(ge=0, le=1_000_000)]
    ratio_bps: RatioBps


class EngagementTiersParams(_Params):
    policy: Literal["engagement_tiers"] = "engagement_tiers"
    tiers: Annotated[list[Tier], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _ascending(self) -> EngagementTiersParams:
        thresholds = [t.min_referred_donors for t in self.tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tiers must have strictly increasing min_referred_donors")
        if thresholds[0] != 0:
            raise ValueError("the first tier must start at min_referred_donors 0")
        return self


class QuadraticRoundParams(_Params):
    policy: Literal["quadratic_round"] = "quadratic_round"
    min_distinct_donors: Annotated[int, Field(ge=2, le=1000)] = 2


PolicyParams = Annotated[
    FixedRatioParams
    | ReferralBonusParams
    | ChallengeUnlockParams
    | EngagementTiersParams
    | QuadraticRoundParams,
    Field(discriminator="policy"),
]


def tier_ratio_bps(params: EngagementTiersParams, *, referred_donors: int) -> int:
    """The ratio of the highest tier whose threshold the campaign has crossed."""
    ratio = params.tiers[0].ratio_bps
    for tier in params.tiers:
        if referred_donors >= tier.min_referred_donors:
            ratio = tier.ratio_bps
    return ratio


def referral_bonus_minor(params: ReferralBonusParams, *, donation_minor: int) -> int:
    if params.bonus_minor is not None:
        return params.bonus_minor
    assert params.bonus_bps is not None
    return apply_ratio_bps(donation_minor, params.bonus_bps)


def challenge_bonus_minor(
    params: ChallengeUnlockParams, *, donors: int, raised_minor: int, at: datetime, final: bool
) -> int:
    """What the challenge has unlocked: all of it once the target is met before the deadline.

    Pro rata pays the reached share at the deadline (`final`); all-or-nothing pays nothing then.
    """
    if at > params.deadline:
        return 0 if not final else _pro_rata(params, donors=donors, raised_minor=raised_minor)
    progress, target = _progress(params, donors=donors, raised_minor=raised_minor)
    if progress >= target:
        return params.bonus_minor
    return _pro_rata(params, donors=donors, raised_minor=raised_minor) if final else 0


def _progress(params: ChallengeUnlockParams, *, donors: int, raised_minor: int) -> tuple[int, int]:
    if params.target_donors is not None:
        return donors, params.target_donors
    assert params.target_minor is not None
    return raised_minor, params.target_minor


def _pro_rata(params: ChallengeUnlockParams, *, donors: int, raised_minor: int) -> int:
    progress, target = _progress(params, donors=donors, raised_minor=raised_minor)
    if progress >= target:
        return params.bonus_minor
    if params.mode == "all_or_nothing":
        return 0
    return params.bonus_minor * progress // target
