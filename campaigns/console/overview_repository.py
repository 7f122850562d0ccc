"""Read-only queries behind the console overview: totals, backlog, pools, dead letters.

Aggregates are computed by the database (GROUP BY), never by loading rows; the page is
opened often and the tables grow with every donation.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.donations.models import SETTLED, Donation
from campaigns.matching.models import Match, MatchingProgram, MatchStatus, ProgramStatus
from campaigns.moderation.models import CampaignReport
from campaigns.nonprofits.models import Nonprofit, NonprofitStatus
from service.db import UTCDateTime

# Imports flow webhooks -> campaigns, so the overview cannot import the inbox model; it reads
# the inbox table by name, read-only (columns as in webhooks/models.py).
_webhook_events = sa.table(
    "webhook_events",
    sa.column("stripe_event_id", sa.String()),
    sa.column("type", sa.String()),
    sa.column("attempts", sa.Integer()),
    sa.column("last_error", sa.Text()),
    sa.column("received_at", UTCDateTime()),
    sa.column("dead", sa.Boolean()),
)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    amount_minor: int
    count: int


@dataclass(frozen=True)
class StatusTotal:
    status: MatchStatus
    currency: str
    amount_minor: int
    count: int


@dataclass(frozen=True)
class Backlog:
    held_matches: int
    oldest_held_at: datetime | None
    nonprofits_pending: int
    oldest_nonprofit_at: datetime | None
    campaigns_in_review: int
    oldest_campaign_at: datetime | None
    open_reports: int


@dataclass(frozen=True)
class DeadEvent:
    stripe_event_id: str
    type: str
    attempts: int
    last_error: str | None
    received_at: datetime


@dataclass(frozen=True)
class DeadLetters:
    count: int
    latest: list[DeadEvent]


def utc_day(session: AsyncSession, column: Any) -> sa.ColumnElement[Any]:
    """The UTC calendar day of a timestamp column, on both backends."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.date(sa.func.timezone("UTC", column))
    # SQLite stores UTCDateTime as naive UTC text.
    return sa.func.date(column)


def as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


async def raised_by_currency(session: AsyncSession) -> list[CurrencyTotal]:
    """Net of refunds, from the campaigns' derived totals (the ledger check keeps them honest)."""
    query = (
        sa.select(Campaign.currency, sa.func.sum(Campaign.raised_minor), sa.func.sum(Campaign.donor_count))
        .group_by(Campaign.currency)
        .order_by(Campaign.currency)
    )
    rows = (await session.execute(query)).all()
    return [CurrencyTotal(currency=c, amount_minor=int(a or 0), count=int(n or 0)) for c, a, n in rows]


async def raised_per_day(session: AsyncSession, *, since: datetime) -> dict[str, dict[date, int]]:
    """Settled donations net of refunds per UTC day of confirmation, by currency."""
    day = utc_day(session, Donation.confirmed_at)
    query = (
        sa.select(Donation.currency, day, sa.func.sum(Donation.amount_minor - Donation.refunded_minor))
        .where(Donation.status.in_(SETTLED), Donation.confirmed_at >= since)
        .group_by(Donation.currency, day)
    )
    out: dict[str, dict[date, int]] = defaultdict(dict)
    for currency, when, amount in (await session.execute(query)).all():
        out[currency][as_date(when)] = int(amount or 0)
    return dict(out)


async def matches_by_status(session: AsyncSession) -> list[StatusTotal]:
    query = sa.select(
        Match.status, Match.currency, sa.func.sum(Match.amount_minor), sa.func.count(Match.id)
    ).group_by(Match.status, Match.currency)
    rows = (await session.execute(query)).all()
    return [StatusTotal(status=s, currency=c, amount_minor=int(a or 0), count=int(n)) for s, c, a, n in rows]


async def active_programs(session: AsyncSession) -> Sequence[MatchingProgram]:
    query = (
        sa.select(MatchingProgram)
        .where(MatchingProgram.status == ProgramStatus.ACTIVE)
        .order_by(MatchingProgram.ends_at, MatchingProgram.id)
    )
    return (await session.scalars(query)).all()


async def committed_per_day(
    session: AsyncSession, *, program_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[date, int]]:
    """What each pool committed to matches per UTC day they were reserved (voided ones gave it back)."""
    if not program_ids:
        return {}
    day = utc_day(session, Match.created_at)
    query = (
        sa.select(Match.program_id, day, sa.func.sum(Match.amount_minor))
        .where(Match.program_id.in_(program_ids), Match.status != MatchStatus.VOIDED)
        .group_by(Match.program_id, day)
    )
    out: dict[uuid.UUID, dict[date, int]] = defaultdict(dict)
    for program_id, when, amount in (await session.execute(query)).all():
        out[program_id][as_date(when)] = int(amount or 0)
    return dict(out)


async def review_backlog(session: AsyncSession) -> Backlog:
    held = (
        await session.execute(
            sa.select(sa.func.count(Match.id), sa.func.min(Match.created_at)).where(
                Match.status == MatchStatus.HELD_FOR_REVIEW
            )
        )
    ).one()
    pending = (
        await session.execute(
            sa.select(sa.func.count(Nonprofit.id), sa.func.min(Nonprofit.created_at)).where(
                Nonprofit.status == NonprofitStatus.PENDING_VERIFICATION
            )
        )
    ).one()
    in_review = (
        await session.execute(
            sa.select(sa.func.count(Campaign.id), sa.func.min(Campaign.submitted_at)).where(
                Campaign.status == CampaignStatus.IN_REVIEW
            )
        )
    ).one()
    reports = await session.scalar(
        sa.select(sa.func.count(CampaignReport.id)).where(CampaignReport.resolved_at.is_(None))
    )
    return Backlog(
        held_matches=int(held[0]),
        oldest_held_at=held[1],
        nonprofits_pending=int(pending[0]),
        oldest_nonprofit_at=pending[1],
        campaigns_in_review=int(in_review[0]),
        oldest_campaign_at=in_review[1],
        open_reports=int(reports or 0),
    )


async def dead_letters(session: AsyncSession, *, latest: int = 5) -> DeadLetters:
    events = _webhook_events.c
    count = await session.scalar(sa.select(sa.func.count()).select_from(_webhook_events).where(events.dead))
    rows = (
        await session.execute(
            sa.select(
                events.stripe_event_id, events.type, events.attempts, events.last_error, events.received_at
            )
            .where(events.dead)
            .order_by(events.received_at.desc())
            .limit(latest)
        )
    ).all()
    return DeadLetters(
        count=int(count or 0),
        latest=[
            DeadEvent(stripe_event_id=e, type=t, attempts=int(a), last_error=err, received_at=r)
            for e, t, a, err, r in rows
        ],
    )
