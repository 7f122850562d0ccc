"""The matched money a campaign shows next to what donors raised (Campaign.matched_minor).

Which matches count: every match still backed by its pool, i.e. pending, held_for_review,
approved and paid, net of what was clawed back after payment (amount_minor - recovered_minor).
Pending and held matches are money promised from a funded pool and reserved in it, so they
count; the pages say plainly that they are waiting for the usual checks. Voided matches
(refund, dispute, ineligibility, rejection) gave their reservation back and do not count.

The total is stored on the campaign (the page reads it without aggregating) and recomputed,
never incremented, by the same finisher that recomputes raised and donors
(campaigns.donations.settlement.refresh_campaign_totals), under the campaign's lock, so one
lock pass per unit of work covers both. Every change of a match's counted amount goes through
the pool (reserve, release, pay, claw back), which calls `note_changed`.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from campaigns.donations import settlement
from campaigns.matching import repository
from campaigns.matching.models import Match, MatchStatus
from service.unit_of_work import UnitOfWork

COUNTED = frozenset(
    {MatchStatus.PENDING, MatchStatus.HELD_FOR_REVIEW, MatchStatus.APPROVED, MatchStatus.PAID}
)
"""Statuses whose money shows as matched on the campaign (see the module docstring)."""


def counted_sql() -> sa.ColumnElement[int]:
    """The matched amount of one match row as SQL (0 when its status does not count)."""
    return sa.case(
        (Match.status.in_(sorted(COUNTED)), Match.amount_minor - Match.recovered_minor),
        else_=0,
    )


async def matched_total(session: UnitOfWork, campaign_id: uuid.UUID) -> int:
    """The campaign's matched money, computed from scratch (donations.hooks.matched_totals)."""
    # No program, no match: most webhook batches skip the sum (any_program is cached per unit).
    if not await repository.any_program(session):
        return 0
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(counted_sql()), 0)).where(Match.campaign_id == campaign_id)
    )
    return int(total or 0)


def note_changed(session: UnitOfWork, match: Match) -> None:
    """The match's counted amount may have moved: refresh its campaign's totals before commit."""
    session.campaigns_due.add(match.campaign_id)
    session.before_commit(settlement.refresh_campaign_totals)
