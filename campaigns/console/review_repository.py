"""The match review queue as a reviewer reads it: filters, one row per match, keyset pages.

Risk lives in each match's JSON `risk_reasons`, which SQLite and PostgreSQL query in
different dialects; the queue is small (held matches), so the risk filters run in Python
over keyset-ordered batches instead. The page is still a true keyset page: its cursor is
the last row shown, or the last row looked at when the scan budget ran out first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.matching import lifecycle, risk
from campaigns.matching.models import Match, MatchApproval, MatchingProgram, MatchStatus
from campaigns.nonprofits.models import Nonprofit
from service.money import currency
from service.pagination import Cursor, after_cursor

BATCH = 200
SCAN_BUDGET = 5_000
"""Rows looked at per page when a risk filter is on; the next page carries on from there."""


@dataclass(frozen=True)
class AmountBound:
    """An amount typed in major units ("25.50"); turned into minor units per currency."""

    major: Decimal

    def minor_in(self, code: str, *, rounding: str) -> int:
        scaled = (self.major * currency(code).minor_per_major).to_integral_value(rounding=rounding)
        return int(scaled)


@dataclass(frozen=True)
class QueueFilters:
    status: MatchStatus | None = MatchStatus.HELD_FOR_REVIEW
    program_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None
    min_weight: int | None = None
    signal: str | None = None
    min_amount: AmountBound | None = None
    max_amount: AmountBound | None = None
    older_than_days: int | None = None

    @property
    def filters_risk(self) -> bool:
        return self.min_weight is not None or self.signal is not None


@dataclass(frozen=True)
class QueueRow:
    match: Match
    campaign_title: str
    nonprofit_name: str
    program_name: str
    weight: int
    codes: list[str]
    age_days: int
    approvals: int
    approvals_required: int

    @property
    def bulk_approvable(self) -> bool:
        """What bulk approval would take: waiting, one approver, low risk (the service decides)."""
        return (
            self.match.status in (MatchStatus.PENDING, MatchStatus.HELD_FOR_REVIEW)
            and self.approvals_required == 1
            and risk.is_low_risk(self.match.risk_reasons)
        )


@dataclass
class QueuePage:
    rows: list[QueueRow] = field(default_factory=list)
    next_cursor: str | None = None
    scan_exhausted: bool = False
    """The scan budget ran out before the page filled: more matches may follow."""


def passes_risk(match: Match, filters: QueueFilters) -> bool:
    if filters.min_weight is not None and risk.total_weight(match.risk_reasons) < filters.min_weight:
        return False
    return filters.signal is None or filters.signal in risk.reason_codes(match.risk_reasons)


async def _amount_condition(session: AsyncSession, filters: QueueFilters) -> sa.ColumnElement[bool] | None:
    """One bound per currency in use: "25" means 2500 EUR cents but 25 yen."""
    if filters.min_amount is None and filters.max_amount is None:
        return None
    codes = (await session.scalars(sa.select(MatchingProgram.currency).distinct())).all()
    per_currency: list[sa.ColumnElement[bool]] = []
    for code in codes:
        parts: list[sa.ColumnElement[bool]] = [Match.currency == code]
        if filters.min_amount is not None:
            parts.append(Match.amount_minor >= filters.min_amount.minor_in(code, rounding=ROUND_CEILING))
        if filters.max_amount is not None:
            parts.append(Match.amount_minor <= filters.max_amount.minor_in(code, rounding=ROUND_FLOOR))
        per_currency.append(sa.and_(*parts))
    return sa.or_(*per_currency) if per_currency else sa.false()


async def _base_query(session: AsyncSession, filters: QueueFilters, *, now: datetime) -> sa.Select[Any]:
    query = sa.select(Match)
    if filters.status is not None:
        query = query.where(Match.status == filters.status)
    if filters.program_id is not None:
        query = query.where(Match.program_id == filters.program_id)
    if filters.campaign_id is not None:
        query = query.where(Match.campaign_id == filters.campaign_id)
    if filters.older_than_days is not None:
        query = query.where(Match.created_at <= now - timedelta(days=filters.older_than_days))
    amount = await _amount_condition(session, filters)
    if amount is not None:
        query = query.where(amount)
    return query


@dataclass(frozen=True)
class Scan:
    """How many rows to read per query, and how many to look at per page at most."""

    batch: int = BATCH
    budget: int = SCAN_BUDGET


async def _scan(
    session: AsyncSession,
    query: sa.Select[Any],
    filters: QueueFilters,
    *,
    limit: int,
    cursor: str | None,
    scan: Scan,
) -> tuple[list[Match], Match | None, bool]:
    """Up to limit + 1 matching rows; the last row looked at; whether the budget ran out."""
    found: list[Match] = []
    scanned = 0
    last: Match | None = None
    position = cursor
    while True:
        batch = list(
            (
                await session.scalars(
                    after_cursor(query, Match.created_at, Match.id, position).limit(scan.batch)
                )
            ).all()
        )
        for match in batch:
            scanned += 1
            last = match
            if passes_risk(match, filters):
                found.append(match)
                if len(found) > limit:
                    return found, last, False
        if len(batch) < scan.batch:
            return found, last, False
        if scanned >= scan.budget:
            return found, last, True
        position = Cursor(created_at=batch[-1].created_at, id=batch[-1].id).encode()


async def review_queue(
    session: AsyncSession,
    *,
    filters: QueueFilters,
    limit: int,
    cursor: str | None,
    now: datetime,
    scan: Scan = Scan(),
) -> QueuePage:
    query = await _base_query(session, filters, now=now)
    found, last, exhausted = await _scan(session, query, filters, limit=limit, cursor=cursor, scan=scan)
    page = QueuePage(rows=await _rows(session, found[:limit], now=now))
    if len(found) > limit:
        shown = found[limit - 1]
        page.next_cursor = Cursor(created_at=shown.created_at, id=shown.id).encode()
    elif exhausted and last is not None:
        page.next_cursor = Cursor(created_at=last.created_at, id=last.id).encode()
        page.scan_exhausted = True
    return page


async def _names(session: AsyncSession, column: Any, key: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(sa.select(key, column).where(key.in_(ids)))
    return {row_id: str(name) for row_id, name in rows}


async def approval_counts(session: AsyncSession, matches: Sequence[Match]) -> dict[uuid.UUID, int]:
    """Approvals counting towards each match's current decision (an appeal starts a new round)."""
    if not matches:
        return {}
    rows = await session.execute(
        sa.select(MatchApproval.match_id, MatchApproval.round, sa.func.count())
        .where(MatchApproval.match_id.in_([m.id for m in matches]))
        .group_by(MatchApproval.match_id, MatchApproval.round)
    )
    per_round = {(match_id, int(round_)): int(n) for match_id, round_, n in rows}
    return {m.id: per_round.get((m.id, lifecycle.decision_round(m)), 0) for m in matches}


async def _rows(session: AsyncSession, matches: list[Match], *, now: datetime) -> list[QueueRow]:
    campaigns = await _names(session, Campaign.title, Campaign.id, {m.campaign_id for m in matches})
    nonprofits = await _names(session, Nonprofit.name, Nonprofit.id, {m.nonprofit_id for m in matches})
    program_ids = {m.program_id for m in matches}
    programs = (
        {
            p.id: p
            for p in await session.scalars(
                sa.select(MatchingProgram).where(MatchingProgram.id.in_(program_ids))
            )
        }
        if program_ids
        else {}
    )
    approvals = await approval_counts(session, matches)
    return [
        QueueRow(
            match=m,
            campaign_title=campaigns.get(m.campaign_id, "?"),
            nonprofit_name=nonprofits.get(m.nonprofit_id, "?"),
            program_name=programs[m.program_id].name,
            weight=risk.total_weight(m.risk_reasons),
            codes=risk.reason_codes(m.risk_reasons),
            age_days=max((now - m.created_at).days, 0),
            approvals=approvals.get(m.id, 0),
            approvals_required=lifecycle.approvals_required(programs[m.program_id], m),
        )
        for m in matches
    ]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


async def filter_choices(session: AsyncSession) -> tuple[list[Choice], list[Choice]]:
    """Programs and campaigns a reviewer can filter by (those that have matches)."""
    programs = await session.execute(
        sa.select(MatchingProgram.id, MatchingProgram.name).order_by(MatchingProgram.name)
    )
    campaigns = await session.execute(
        sa.select(Campaign.id, Campaign.title)
        .where(Campaign.id.in_(sa.select(Match.campaign_id).distinct()))
        .order_by(Campaign.title)
        .limit(500)
    )
    return (
        [Choice(str(i), str(name)) for i, name in programs],
        [Choice(str(i), str(title)) for i, title in campaigns],
    )
