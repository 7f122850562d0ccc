"""JSON API: the calling nonprofit's tax profile (how its receipts name it)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from campaigns.nonprofits.web import api_actor
from campaigns.receipts import service
from campaigns.receipts.schemas import ReceiptList, ReceiptQuery, TaxProfileIn, TaxProfileOut
from service.pagination import Cursor
from service.web.api import ApiRoutes, Operation, json_response, parse_json, parse_query
from service.web.context import database


async def get_tax_profile(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        out = await service.tax_profile_view(session, actor=actor)
    return json_response(out)


async def put_tax_profile(request: Request) -> Response:
    data = await parse_json(request, TaxProfileIn)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        out = await service.save_tax_profile(session, actor=actor, data=data)
    return json_response(out)


async def list_receipts(request: Request) -> Response:
    query = parse_query(request, ReceiptQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        # Scoped to the key's organisation: no parameter can name another nonprofit.
        rows = await service.list_receipts(
            session, actor=actor, year=query.year, limit=query.limit, cursor=query.cursor
        )
    page = rows[: query.limit]
    more = len(rows) > query.limit
    next_cursor = Cursor(created_at=page[-1].issued_at, id=page[-1].id).encode() if more else None
    return json_response(ReceiptList(data=page, next_cursor=next_cursor))


def build() -> ApiRoutes:
    api = ApiRoutes()
    tag = "receipts"
    api.add(
        get_tax_profile,
        Operation(
            "GET",
            "/nonprofits/me/tax-profile",
            "The calling nonprofit's tax profile (as its receipts name it)",
            tag,
            response=TaxProfileOut,
            errors=(401,),
        ),
    )
    api.add(
        put_tax_profile,
        Operation(
            "PUT",
            "/nonprofits/me/tax-profile",
            "Set the calling nonprofit's tax profile (owner; audited)",
            tag,
            body=TaxProfileIn,
            response=TaxProfileOut,
            errors=(400, 401, 403, 422),
        ),
    )
    api.add(
        list_receipts,
        Operation(
            "GET",
            "/receipts",
            "The calling nonprofit's receipts and corrected receipts, in the order issued",
            tag,
            query=ReceiptQuery,
            response=ReceiptList,
            errors=(400, 401, 422),
        ),
    )
    return api
