"""What a challenge program (policy challenge_unlock) has left to unlock on one campaign.

The count is the engine's own (`challenge_count`, used by engine.check_challenge): distinct
donor clusters with settled gifts in the program's window up to its deadline, less the
clusters linked to the nonprofit's own people, and their gifts net of refunds. So the page
never promises "3 more donors" when the engine would count 5.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.matching import identity, repository
from campaigns.matching.eligibility import Context, program_takes
from campaigns.matching.models import MatchingProgram, MatchStatus, Policy
from campaigns.matching.policies import ChallengeUnlockParams


@dataclass(frozen=True)
class ChallengeCount:
    donors: int
    raised_minor: int


async def challenge_count(
    session: AsyncSession, program: MatchingProgram, params: ChallengeUnlockParams, *, ctx: Context
) -> ChallengeCount:
    """Donors and money toward the target, counted as the challenge counts them."""
    clusters = await repository.settled_clusters(
        session,
        campaign_id=ctx.campaign.id,
        since=program.starts_at,
        until=min(program.ends_at, params.deadline),
    )
    owners = await identity.owner_linked_clusters(
        session, cluster_ids=clusters, nonprofit_id=ctx.nonprofit.id
    )
    counted = {c: v for c, v in clusters.items() if c not in owners}
    return ChallengeCount(donors=len(counted), raised_minor=sum(counted.values()))


TargetKind = Literal["donors", "amount"]


@dataclass(frozen=True)
class ChallengeProgress:
    program_name: str
    currency: str
    bonus_minor: int
    """What the challenge unlocks for the campaign."""
    target_kind: TargetKind
    target: int
    """Donors, or minor units, to reach."""
    progress: int
    remaining: int
    """Donors, or minor units, still missing (0 once met)."""
    deadline: datetime
    unlocked: bool
    """The bonus match exists: the target was met before the deadline (or pro rata at its end)."""
    ended: bool
    """Nothing is left to ask of donors and nothing was unlocked: the deadline passed, or the
    target was met when the pool could no longer pay the bonus."""


def _target(params: ChallengeUnlockParams, count: ChallengeCount) -> tuple[TargetKind, int, int]:
    if params.target_donors is not None:
        return "donors", params.target_donors, count.donors
    assert params.target_minor is not None
    return "amount", params.target_minor, count.raised_minor


async def challenges_for(
    session: AsyncSession, *, ctx: Context, programs: Sequence[MatchingProgram], at: datetime
) -> list[ChallengeProgress]:
    """The campaign's challenges whose window is open now (ended or unlocked ones included).

    `programs` is repository.programs_for(at=at) (campaign_view queries it once for the offers
    and the challenges)."""
    out: list[ChallengeProgress] = []
    for program in programs:
        if program.policy is not Policy.CHALLENGE_UNLOCK or program_takes(program, ctx) is not None:
            continue
        params = ChallengeUnlockParams.model_validate(program.policy_params)
        count = await challenge_count(session, program, params, ctx=ctx)
        kind, target, progress = _target(params, count)
        bonus = await repository.get_match(
            session, program_id=program.id, key=campaign_match_key(program.id, ctx)
        )
        # Unlocked means the bonus match exists (the engine makes it in the same transaction as
        # the gift that meets the target); a target met with an empty pool unlocks nothing.
        unlocked = bonus is not None and bonus.status is not MatchStatus.VOIDED and bonus.amount_minor > 0
        out.append(
            ChallengeProgress(
                program_name=program.name,
                currency=program.currency,
                bonus_minor=bonus.amount_minor if bonus is not None and unlocked else params.bonus_minor,
                target_kind=kind,
                target=target,
                progress=progress,
                remaining=max(target - progress, 0),
                deadline=params.deadline,
                unlocked=unlocked,
                ended=not unlocked and (at > params.deadline or progress >= target),
            )
        )
    return out


def campaign_match_key(program_id: uuid.UUID, ctx: Context) -> str:
    """The key of a program's campaign-level match (engine.check_challenge and open_campaign_match)."""
    return f"{program_id}:campaign:{ctx.campaign.id}"
