"""Campaign spikes as reviewers decide them: one decision for a campaign's held spike matches.

A spike puts many matches of one campaign in the queue at once, each carrying the same
`campaign_spike` reason; deciding them one by one is slow and reads the same evidence again
each time. A reviewer sees them grouped per campaign (how many, how many distinct donors, over
what time) and approves the group in one decision. The decision goes through the ordinary bulk
approval, so every rule still holds per match: two people for a match at or above the review
threshold, nobody for their own organisation, low-risk ones only, one audit entry per match;
and one more audit entry for the campaign-level decision itself.

The group a reviewer approves is the group they saw: the page sends a digest of the match ids
it showed, and a group that changed since (a new match held, one decided by someone else) is
refused with a 409 rather than approved unseen.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.matching import lifecycle, risk
from campaigns.matching.errors import OwnOrganisation
from campaigns.matching.lifecycle import BulkOutcome
from campaigns.matching.models import Match, MatchingProgram, MatchStatus
from campaigns.nonprofits.models import Nonprofit
from service import audit
from service.auth.models import Admin
from service.errors import Conflict, NotFound
from service.unit_of_work import UnitOfWork

SPIKE_SIGNAL = "campaign_spike"


class SpikeNotFound(NotFound):
    code = "campaign_spike_not_found"


class SpikeChanged(Conflict):
    code = "campaign_spike_changed"


@dataclass
class SpikeGroup:
    campaign_id: uuid.UUID
    campaign_title: str
    nonprofit_id: uuid.UUID
    nonprofit_name: str
    match_ids: list[uuid.UUID] = field(default_factory=list)
    approvable_ids: list[uuid.UUID] = field(default_factory=list)
    """Low risk and one approver: what one decision approves."""
    approvable_minor: dict[str, int] = field(default_factory=dict)
    """Per currency, what the approvable ones add up to."""
    donors: int = 0
    """Distinct donor identity clusters behind the held matches."""
    first_at: datetime | None = None
    last_at: datetime | None = None

    @property
    def held(self) -> int:
        return len(self.match_ids)

    @property
    def left_for_people(self) -> int:
        return self.held - len(self.approvable_ids)

    @property
    def digest(self) -> str:
        return group_digest(self.match_ids)


def group_digest(match_ids: Iterable[uuid.UUID]) -> str:
    """What identifies the group a reviewer saw: the sorted ids, hashed."""
    return hashlib.sha256(",".join(sorted(str(i) for i in match_ids)).encode()).hexdigest()[:32]


async def _held_spike_matches(session: AsyncSession, *, campaign_id: uuid.UUID | None) -> list[Match]:
    # risk_reasons is JSON, queried differently on SQLite and PostgreSQL; held matches are few
    # enough to filter in Python.
    query = sa.select(Match).where(Match.status == MatchStatus.HELD_FOR_REVIEW)
    if campaign_id is not None:
        query = query.where(Match.campaign_id == campaign_id)
    held = (await session.scalars(query.order_by(Match.created_at, Match.id))).all()
    return [m for m in held if SPIKE_SIGNAL in risk.reason_codes(m.risk_reasons)]


def _approvable(program: MatchingProgram, match: Match) -> bool:
    return lifecycle.approvals_required(program, match) == 1 and risk.is_low_risk(match.risk_reasons)


async def list_spikes(session: AsyncSession, *, campaign_id: uuid.UUID | None = None) -> list[SpikeGroup]:
    """Campaigns with matches held for a spike, the largest group first."""
    matches = await _held_spike_matches(session, campaign_id=campaign_id)
    if not matches:
        return []
    programs = {
        p.id: p
        for p in await session.scalars(
            sa.select(MatchingProgram).where(MatchingProgram.id.in_({m.program_id for m in matches}))
        )
    }
    names = await session.execute(
        sa.select(Campaign.id, Campaign.title, Nonprofit.id, Nonprofit.name)
        .join(Nonprofit, Nonprofit.id == Campaign.nonprofit_id)
        .where(Campaign.id.in_({m.campaign_id for m in matches}))
    )
    groups = {cid: SpikeGroup(cid, str(title), nid, str(name)) for cid, title, nid, name in names}
    donors: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for m in matches:
        group = groups[m.campaign_id]
        group.match_ids.append(m.id)
        donors[m.campaign_id].add(m.cluster_id or m.id)
        group.first_at = group.first_at or m.created_at
        group.last_at = m.created_at
        if _approvable(programs[m.program_id], m):
            group.approvable_ids.append(m.id)
            group.approvable_minor[m.currency] = group.approvable_minor.get(m.currency, 0) + m.amount_minor
    for cid, group in groups.items():
        group.donors = len(donors[cid])
    return sorted(groups.values(), key=lambda g: (-g.held, g.campaign_title, str(g.campaign_id)))


async def approve_spike(
    session: UnitOfWork,
    *,
    admin: Admin,
    campaign_id: uuid.UUID,
    seen_digest: str,
    note_text: str | None,
) -> BulkOutcome:
    """Approve the low-risk held spike matches of one campaign, as the reviewer saw them."""
    groups = await list_spikes(session, campaign_id=campaign_id)
    if not groups:
        raise SpikeNotFound("this campaign has no matches held for a spike (someone may have decided them)")
    group = groups[0]
    if await lifecycle.belongs_to_nonprofit(session, admin=admin, nonprofit_id=group.nonprofit_id):
        raise OwnOrganisation("you belong to this nonprofit, so another admin must decide on its matches")
    if group.digest != seen_digest:
        raise SpikeChanged(
            "the campaign's held spike matches changed since you loaded the page; look at them again"
        )
    outcome = await lifecycle.bulk_approve(
        session, admin=admin, match_ids=group.approvable_ids, note_text=note_text
    )
    await _record_decision(session, admin=admin, group=group, outcome=outcome, note_text=note_text)
    return outcome


async def _record_decision(
    session: AsyncSession, *, admin: Admin, group: SpikeGroup, outcome: BulkOutcome, note_text: str | None
) -> None:
    approved = set(outcome.approved)
    await audit.record(
        session,
        actor=admin,
        action="campaign.spike_approved",
        subject_type="campaign",
        subject_id=str(group.campaign_id),
        nonprofit_id=group.nonprofit_id,
        before={"held": group.held, "donors": group.donors},
        after={
            "approved": len(approved),
            "approved_match_ids": _ids(m for m in group.match_ids if m in approved),
            "left_for_people": group.held - len(approved),
        },
        note=note_text,
    )


def _ids(ids: Iterable[uuid.UUID]) -> Sequence[str]:
    return [str(i) for i in ids]
