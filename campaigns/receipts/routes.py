"""JSON API: the calling nonprofit's tax profile (how its receipts name it)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from campaigns.nonprofits.web import api_actor
from campaigns.receipts import service
from campaigns.receipts.schemas import TaxProfileIn, TaxProfileOut
from service.web.api import ApiRoutes, Operation, json_response, parse_json
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
    return api
