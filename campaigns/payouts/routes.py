"""Payouts API: the finance view and every payout (finance admins), a nonprofit's own payouts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from campaigns.nonprofits.web import api_actor
from campaigns.payouts import service
from campaigns.payouts.finance import ProgramFinance
from campaigns.payouts.schemas import (
    FinanceOut,
    OwnPayoutQuery,
    PayoutList,
    PayoutQuery,
    ProgramFinanceOut,
)
from campaigns.payouts.web import payout_out
from service.auth.models import AdminRole
from service.pagination import next_cursor
from service.web.api import ApiRoutes, Operation, json_response, parse_query
from service.web.context import database
from service.web.guards import api_admin

FINANCE = (AdminRole.FINANCE, AdminRole.SUPERADMIN)


def finance_out(figures: ProgramFinance) -> ProgramFinanceOut:
    return ProgramFinanceOut.model_validate(figures, from_attributes=True)


def _page(rows: service.PayoutPage, limit: int) -> PayoutList:
    return PayoutList(
        data=[payout_out(p, r) for p, r in rows[:limit]],
        next_cursor=next_cursor([p for p, _ in rows], limit),
    )


async def finance(request: Request) -> Response:
    async with database(request).transaction() as session:
        await api_admin(request, session, *FINANCE)
        figures = await service.finance_summary(session)
    return json_response(FinanceOut(programs=[finance_out(f) for f in figures]))


async def admin_payouts(request: Request) -> Response:
    query = parse_query(request, PayoutQuery)
    async with database(request).transaction() as session:
        await api_admin(request, session, *FINANCE)
        rows = await service.list_payouts(
            session,
            nonprofit_id=query.nonprofit_id,
            status=query.status,
            limit=query.limit,
            cursor=query.cursor,
        )
    return json_response(_page(rows, query.limit))


async def own_payouts(request: Request) -> Response:
    query = parse_query(request, OwnPayoutQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        # Scoped to the key's organisation: no parameter can name another nonprofit.
        rows = await service.list_payouts(
            session,
            nonprofit_id=actor.nonprofit_id,
            status=query.status,
            limit=query.limit,
            cursor=query.cursor,
        )
    return json_response(_page(rows, query.limit))


def build() -> ApiRoutes:
    api = ApiRoutes()
    api.add(
        finance,
        Operation(
            "GET",
            "/admin/finance",
            "Per matching program: budget, available, held, reserved, payable, paid, clawed back, "
            "returned and receivable, from the ledger",
            "admin",
            response=FinanceOut,
            errors=(401, 403),
        ),
    )
    api.add(
        admin_payouts,
        Operation(
            "GET",
            "/admin/payouts",
            "Payouts of matched money and their reversals, oldest first",
            "admin",
            query=PayoutQuery,
            response=PayoutList,
            errors=(400, 401, 403, 422),
        ),
    )
    api.add(
        own_payouts,
        Operation(
            "GET",
            "/payouts",
            "The organisation's payouts of matched money and their reversals, oldest first",
            "payouts",
            query=OwnPayoutQuery,
            response=PayoutList,
            errors=(400, 401, 403, 422),
        ),
    )
    return api
