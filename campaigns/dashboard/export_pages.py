"""Downloads from the nonprofit dashboard: /dashboard/exports/*.csv for a signed-in member,
always scoped to the member's own organisation.

The sign-in check comes before the filters, so a signed-out visitor always lands on the
login page; a bad filter is a 400 page naming the parameter.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.dashboard.auth import require_actor, signed_in
from campaigns.exports import donations, matches, payouts, service
from campaigns.exports.schemas import DonationExportQuery, MatchExportQuery
from campaigns.exports.spec import Export
from campaigns.exports.web import csv_response, parse_page_query
from service.web.context import database


async def _member_download(request: Request, export: Export[Any, Any], model: type[BaseModel]) -> Response:
    db = database(request)
    async with db.transaction() as session:
        actor = await require_actor(request, session)
        filters = parse_page_query(request, model)
        chunks = await service.start_nonprofit_export(
            session, db, actor=actor, export=export, filters=filters
        )
    return csv_response(chunks, filename=service.filename(export.name, at=db.clock.now()))


@signed_in
async def member_donations(request: Request) -> Response:
    return await _member_download(request, donations.EXPORT, DonationExportQuery)


@signed_in
async def member_matches(request: Request) -> Response:
    return await _member_download(request, matches.EXPORT, MatchExportQuery)


@signed_in
async def member_payouts(request: Request) -> Response:
    return await _member_download(request, payouts.EXPORT, payouts.PayoutExportQuery)


routes: list[BaseRoute] = [
    Route("/exports/donations.csv", member_donations, methods=["GET"], name="export_donations"),
    Route("/exports/matches.csv", member_matches, methods=["GET"], name="export_matches"),
    Route("/exports/payouts.csv", member_payouts, methods=["GET"], name="export_payouts"),
]
