"""The fundraiser CSVs for a nonprofit's API key (#15): GET /api/v1/exports/fundraisers.csv and
/api/v1/exports/fundraiser-donations.csv, scoped to the key's organisation and audited like
every download (campaigns.exports.service)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from campaigns.exports import fundraiser_donations, fundraisers, service
from campaigns.exports.spec import Export
from campaigns.exports.web import csv_response
from campaigns.nonprofits.web import api_actor
from service.web.api import ApiRoutes, Operation, parse_query
from service.web.context import database


async def _download(request: Request, export: Export[Any, Any], model: type[BaseModel]) -> Response:
    filters = parse_query(request, model)
    db = database(request)
    async with db.transaction() as session:
        actor = await api_actor(request, session)
        chunks = await service.start_nonprofit_export(
            session, db, actor=actor, export=export, filters=filters
        )
    return csv_response(chunks, filename=service.filename(export.name, at=db.clock.now()))


async def export_fundraisers(request: Request) -> Response:
    return await _download(request, fundraisers.EXPORT, fundraisers.FundraiserExportQuery)


async def export_fundraiser_donations(request: Request) -> Response:
    return await _download(
        request, fundraiser_donations.EXPORT, fundraiser_donations.FundraiserDonationExportQuery
    )


def build() -> ApiRoutes:
    api = ApiRoutes()
    # The success body is text/csv; Operation describes JSON bodies, so none is declared.
    errors = (401, 422)
    api.add(
        export_fundraisers,
        Operation(
            "GET",
            "/exports/fundraisers.csv",
            "Your fundraiser pages as CSV, with what each raised and its distinct donors",
            "exports",
            query=fundraisers.FundraiserExportQuery,
            errors=errors,
        ),
    )
    api.add(
        export_fundraiser_donations,
        Operation(
            "GET",
            "/exports/fundraiser-donations.csv",
            "Donations made through your fundraiser pages as CSV",
            "exports",
            query=fundraiser_donations.FundraiserDonationExportQuery,
            errors=errors,
        ),
    )
    return api
