"""The matches export: one row per match, with its risk reason codes and the decision on it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.campaign.models import Campaign
from campaigns.exports.csvfile import Amount
from campaigns.exports.schemas import MatchExportQuery
from campaigns.exports.spec import Column, Export, Position, after_position
from campaigns.matching import risk
from campaigns.matching.models import Match, MatchingProgram
from campaigns.nonprofits.models import Nonprofit
from service.auth.models import Admin


@dataclass(frozen=True)
class MatchRow:
    match: Match
    program_name: str
    campaign_title: str
    nonprofit_name: str
    decided_by: str | None


async def fetch_page(
    session: AsyncSession,
    *,
    filters: MatchExportQuery,
    nonprofit_id: uuid.UUID | None,
    after: Position | None,
    limit: int,
) -> Sequence[MatchRow]:
    query = (
        sa.select(Match, MatchingProgram.name, Campaign.title, Nonprofit.name, Admin.email)
        .join(MatchingProgram, MatchingProgram.id == Match.program_id)
        .join(Campaign, Campaign.id == Match.campaign_id)
        .join(Nonprofit, Nonprofit.id == Match.nonprofit_id)
        .outerjoin(Admin, Admin.id == Match.decided_by_admin_id)
    )
    if nonprofit_id is not None:
        query = query.where(Match.nonprofit_id == nonprofit_id)
    if filters.campaign_id is not None:
        query = query.where(Match.campaign_id == filters.campaign_id)
    if filters.program_id is not None:
        query = query.where(Match.program_id == filters.program_id)
    if filters.status is not None:
        query = query.where(Match.status == filters.status)
    if filters.since is not None:
        query = query.where(Match.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Match.created_at < filters.until)
    query = after_position(query, Match.created_at, Match.id, after).limit(limit)
    rows = await session.execute(query)
    return [MatchRow(m, program, title, name, admin) for m, program, title, name, admin in rows]


def risk_codes(match: Match) -> str:
    """The fired signals' codes, '; '-separated (the console explains each in words)."""
    return "; ".join(risk.reason_codes(match.risk_reasons or []))


def _money(minor: int, row: MatchRow) -> Amount:
    return Amount(minor, row.match.currency)


def _optional_id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


COLUMNS: tuple[Column[MatchRow], ...] = (
    Column("match_id", lambda r: str(r.match.id)),
    Column("created_at", lambda r: r.match.created_at),
    Column("hold_until", lambda r: r.match.hold_until),
    Column("paid_at", lambda r: r.match.paid_at),
    Column("updated_at", lambda r: r.match.updated_at),
    Column("program_id", lambda r: str(r.match.program_id)),
    Column("program", lambda r: r.program_name),
    Column("nonprofit_id", lambda r: str(r.match.nonprofit_id), admin_only=True),
    Column("nonprofit", lambda r: r.nonprofit_name, admin_only=True),
    Column("campaign_id", lambda r: str(r.match.campaign_id)),
    Column("campaign", lambda r: r.campaign_title),
    Column("donation_id", lambda r: _optional_id(r.match.donation_id)),
    Column("amount", lambda r: _money(r.match.amount_minor, r)),
    Column("original", lambda r: _money(r.match.original_minor, r)),
    Column("recovered", lambda r: _money(r.match.recovered_minor, r)),
    Column("currency", lambda r: r.match.currency.upper()),
    Column("status", lambda r: r.match.status.value),
    Column("risk_reasons", lambda r: risk_codes(r.match)),
    Column("void_reason", lambda r: r.match.void_reason),
    Column("decision_note", lambda r: r.match.decision_note),
    Column("decided_by", lambda r: r.decided_by, admin_only=True),
    Column("appealed_at", lambda r: r.match.appealed_at),
    Column("appeal_message", lambda r: r.match.appeal_message),
)

EXPORT: Export[MatchExportQuery, MatchRow] = Export(
    name="matches",
    columns=COLUMNS,
    fetch_page=fetch_page,
    position=lambda r: Position(r.match.created_at, r.match.id),
)
