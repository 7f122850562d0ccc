"""The finance page: each program's pool from the ledger (with a bar), and the payouts made from it.

Finance and superadmins only. Read-only: money moves through the payout worker, never from
this page. The figures come from `campaigns.payouts.finance`, which reads the ledger.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console.auth import admin_page
from campaigns.nonprofits.models import Nonprofit
from campaigns.payouts import finance, repository
from campaigns.payouts.finance import ProgramFinance
from service.auth.models import Admin, AdminRole
from service.pagination import InvalidCursor, next_cursor
from service.web.context import database
from service.web.pages import render

READERS = (AdminRole.FINANCE, AdminRole.SUPERADMIN)
PAGE_SIZE = 50
BAR_WIDTH = 600


@dataclass(frozen=True)
class Segment:
    name: str
    x: int
    width: int
    amount_minor: int


@dataclass(frozen=True)
class ProgramBar:
    row: ProgramFinance
    segments: list[Segment]


def budget_bar(row: ProgramFinance) -> ProgramBar:
    """Paid (net of clawbacks), promised (held at checkout, reserved, payable) and available,
    as shares of the budget, left to right."""
    parts = [
        ("paid", max(row.paid_minor - row.clawed_back_minor, 0)),
        ("reserved", row.held_minor + row.reserved_minor + row.payable_minor),
        ("available", max(row.available_minor, 0)),
    ]
    segments: list[Segment] = []
    x = 0
    for name, amount in parts:
        width = amount * BAR_WIDTH // row.budget_minor if row.budget_minor > 0 else 0
        width = min(width, BAR_WIDTH - x)
        segments.append(Segment(name=name, x=x, width=width, amount_minor=amount))
        x += width
    return ProgramBar(row=row, segments=segments)


@admin_page(*READERS)
async def finance_page(request: Request, admin: Admin) -> Response:
    cursor = request.query_params.get("cursor") or None
    async with database(request).transaction() as session:
        summary = await finance.finance_summary(session)
        try:
            payouts = list(await repository.list_payouts(session, limit=PAGE_SIZE, cursor=cursor))
        except InvalidCursor:
            cursor = None
            payouts = list(await repository.list_payouts(session, limit=PAGE_SIZE, cursor=None))
        names = await _nonprofit_names(session, {p.nonprofit_id for p in payouts})
    context: dict[str, Any] = {
        "admin": admin,
        "programs": [budget_bar(row) for row in summary],
        "bar_width": BAR_WIDTH,
        "payouts": payouts[:PAGE_SIZE],
        "nonprofits": names,
        "cursor": cursor,
        "next_cursor": next_cursor(payouts, PAGE_SIZE),
    }
    return render(request, "console/finance.html", context, language="en")


async def _nonprofit_names(session: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(sa.select(Nonprofit.id, Nonprofit.name).where(Nonprofit.id.in_(ids)))
    return {nonprofit_id: str(name) for nonprofit_id, name in rows}


routes: list[BaseRoute] = [Route("/finance", finance_page, methods=["GET"], name="finance")]
