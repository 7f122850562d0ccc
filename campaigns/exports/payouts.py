"""The payouts export: one row per payout (one per paid or payable match), with what was
netted against receivables and what was taken back since by reversals."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.exports.csvfile import Amount
from campaigns.exports.schemas import AdminScope, ExportQuery
from campaigns.exports.spec import Column, Export, Position, after_position
from campaigns.matching.models import MatchingProgram
from campaigns.nonprofits.models import Nonprofit
from campaigns.payouts.models import Payout, PayoutReversal, PayoutStatus


class PayoutExportQuery(ExportQuery):
    program_id: uuid.UUID | None = None
    status: PayoutStatus | None = None


class AdminPayoutExportQuery(PayoutExportQuery, AdminScope):
    pass


@dataclass(frozen=True)
class PayoutRow:
    payout: Payout
    program_name: str
    nonprofit_name: str
    reversed_minor: int
    receivable_minor: int
    open_receivable_minor: int


def _reversal_totals() -> sa.Subquery:
    return (
        sa.select(
            PayoutReversal.payout_id,
            sa.func.sum(PayoutReversal.amount_minor).label("reversed_minor"),
            sa.func.sum(PayoutReversal.receivable_minor).label("receivable_minor"),
            sa.func.sum(PayoutReversal.open_receivable_minor).label("open_receivable_minor"),
        )
        .group_by(PayoutReversal.payout_id)
        .subquery()
    )


async def fetch_page(
    session: AsyncSession,
    *,
    filters: PayoutExportQuery,
    nonprofit_id: uuid.UUID | None,
    after: Position | None,
    limit: int,
) -> Sequence[PayoutRow]:
    totals = _reversal_totals()
    query = (
        sa.select(
            Payout,
            MatchingProgram.name,
            Nonprofit.name,
            sa.func.coalesce(totals.c.reversed_minor, 0),
            sa.func.coalesce(totals.c.receivable_minor, 0),
            sa.func.coalesce(totals.c.open_receivable_minor, 0),
        )
        .join(MatchingProgram, MatchingProgram.id == Payout.program_id)
        .join(Nonprofit, Nonprofit.id == Payout.nonprofit_id)
        .outerjoin(totals, totals.c.payout_id == Payout.id)
    )
    if nonprofit_id is not None:
        query = query.where(Payout.nonprofit_id == nonprofit_id)
    if filters.program_id is not None:
        query = query.where(Payout.program_id == filters.program_id)
    if filters.status is not None:
        query = query.where(Payout.status == filters.status)
    if filters.since is not None:
        query = query.where(Payout.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Payout.created_at < filters.until)
    query = after_position(query, Payout.created_at, Payout.id, after).limit(limit)
    rows = await session.execute(query)
    return [
        PayoutRow(p, program, name, int(reversed_), int(receivable), int(open_))
        for p, program, name, reversed_, receivable, open_ in rows
    ]


def _money(minor: int, row: PayoutRow) -> Amount:
    return Amount(minor, row.payout.currency)


def _optional_id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


COLUMNS: tuple[Column[PayoutRow], ...] = (
    Column("payout_id", lambda r: str(r.payout.id)),
    Column("created_at", lambda r: r.payout.created_at),
    Column("paid_at", lambda r: r.payout.paid_at),
    Column("updated_at", lambda r: r.payout.updated_at),
    Column("nonprofit_id", lambda r: str(r.payout.nonprofit_id), admin_only=True),
    Column("nonprofit", lambda r: r.nonprofit_name, admin_only=True),
    Column("program_id", lambda r: str(r.payout.program_id)),
    Column("program", lambda r: r.program_name),
    Column("match_id", lambda r: str(r.payout.match_id)),
    Column("donation_id", lambda r: _optional_id(r.payout.donation_id)),
    Column("amount", lambda r: _money(r.payout.amount_minor, r)),
    Column("netted", lambda r: _money(r.payout.netted_minor, r)),
    Column("transferred", lambda r: _money(r.payout.transfer_minor, r)),
    Column("reversed", lambda r: _money(r.reversed_minor, r)),
    Column("receivable", lambda r: _money(r.receivable_minor, r)),
    Column("open_receivable", lambda r: _money(r.open_receivable_minor, r)),
    Column("currency", lambda r: r.payout.currency.upper()),
    Column("status", lambda r: r.payout.status.value),
    Column("stripe_transfer_id", lambda r: r.payout.stripe_transfer_id),
    Column("transfer_group", lambda r: r.payout.transfer_group),
    Column("destination", lambda r: r.payout.destination),
    Column("attempts", lambda r: r.payout.attempts, admin_only=True),
    Column("last_error", lambda r: r.payout.last_error, admin_only=True),
)

EXPORT: Export[PayoutExportQuery, PayoutRow] = Export(
    name="payouts",
    columns=COLUMNS,
    fetch_page=fetch_page,
    position=lambda r: Position(r.payout.created_at, r.payout.id),
)
