"""Nonprofit API: the organisation's own donations, in the shape donation.* events carry
(schemas.DonationOut), so what a webhook sent and what the API returns always agree."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from campaigns.donations import repository
from campaigns.donations.schemas import DonationList, DonationOut, DonationQuery, donation_out
from campaigns.nonprofits.web import api_actor
from service.errors import NotFound
from service.pagination import next_cursor
from service.web.api import ApiRoutes, Operation, json_response, parse_query
from service.web.context import database


class DonationNotFound(NotFound):
    code = "donation_not_found"


async def own_donations(request: Request) -> Response:
    query = parse_query(request, DonationQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        # Scoped to the key's organisation: no parameter can name another nonprofit.
        rows = await repository.list_for_nonprofit(
            session,
            nonprofit_id=actor.nonprofit_id,
            status=query.status,
            campaign_id=query.campaign_id,
            limit=query.limit,
            cursor=query.cursor,
        )
    page = DonationList(
        data=[donation_out(d) for d in rows[: query.limit]], next_cursor=next_cursor(rows, query.limit)
    )
    return json_response(page)


async def own_donation(request: Request) -> Response:
    donation_id: uuid.UUID = request.path_params["donation_id"]
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        donation = await repository.get_for_nonprofit(
            session, donation_id=donation_id, nonprofit_id=actor.nonprofit_id
        )
    if donation is None:
        # Another organisation's donation looks exactly like none.
        raise DonationNotFound("no such donation")
    return json_response(donation_out(donation))


def build() -> ApiRoutes:
    api = ApiRoutes()
    api.add(
        own_donations,
        Operation(
            "GET",
            "/donations",
            "The organisation's donations, oldest first, as donation.* events carry them",
            "donations",
            query=DonationQuery,
            response=DonationList,
            errors=(400, 401, 403, 422),
        ),
    )
    api.add(
        own_donation,
        Operation(
            "GET",
            "/donations/{donation_id:uuid}",
            "One of the organisation's donations",
            "donations",
            response=DonationOut,
            errors=(401, 403, 404),
        ),
    )
    return api
