"""JSON API twins of the downloads: GET /api/v1/exports/*.csv (nonprofit API key) and
GET /api/v1/admin/exports/*.csv (admin token). Bad filters are 422 JSON like every API input."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from campaigns.exports import audit_log, donations, matches, payouts, service
from campaigns.exports.schemas import (
    AdminDonationExportQuery,
    AdminMatchExportQuery,
    AdminScope,
    AuditExportQuery,
    DonationExportQuery,
    MatchExportQuery,
)
from campaigns.exports.spec import Export
from campaigns.exports.web import csv_response
from campaigns.nonprofits.web import api_actor
from service.web.api import ApiRoutes, Operation, parse_query
from service.web.context import database
from service.web.guards import api_admin


async def _nonprofit_download(request: Request, export: Export[Any, Any], model: type[BaseModel]) -> Response:
    filters = parse_query(request, model)
    db = database(request)
    async with db.transaction() as session:
        actor = await api_actor(request, session)
        chunks = await service.start_nonprofit_export(
            session, db, actor=actor, export=export, filters=filters
        )
    return csv_response(chunks, filename=service.filename(export.name, at=db.clock.now()))


async def _admin_download(request: Request, export: Export[Any, Any], model: type[AdminScope]) -> Response:
    filters = parse_query(request, model)
    db = database(request)
    async with db.transaction() as session:
        admin = await api_admin(request, session, *service.ADMIN_ROLES)
        chunks = await service.start_admin_export(
            session, db, admin=admin, export=export, filters=filters, nonprofit_id=filters.nonprofit_id
        )
    return csv_response(chunks, filename=service.filename(export.name, at=db.clock.now()))


async def export_donations(request: Request) -> Response:
    return await _nonprofit_download(request, donations.EXPORT, DonationExportQuery)


async def export_matches(request: Request) -> Response:
    return await _nonprofit_download(request, matches.EXPORT, MatchExportQuery)


async def export_payouts(request: Request) -> Response:
    return await _nonprofit_download(request, payouts.EXPORT, payouts.PayoutExportQuery)


async def admin_export_donations(request: Request) -> Response:
    return await _admin_download(request, donations.EXPORT, AdminDonationExportQuery)


async def admin_export_matches(request: Request) -> Response:
    return await _admin_download(request, matches.EXPORT, AdminMatchExportQuery)


async def admin_export_payouts(request: Request) -> Response:
    return await _admin_download(request, payouts.EXPORT, payouts.AdminPayoutExportQuery)


async def admin_export_audit_log(request: Request) -> Response:
    query = parse_query(request, AuditExportQuery)
    db = database(request)
    async with db.transaction() as session:
        admin = await api_admin(request, session, *service.ADMIN_ROLES)
        chunks = await service.start_admin_export(
            session,
            db,
            admin=admin,
            export=audit_log.EXPORT,
            filters=audit_log.audit_filter(query),
            nonprofit_id=None,
        )
    return csv_response(chunks, filename=service.filename(audit_log.EXPORT.name, at=db.clock.now()))


def build() -> ApiRoutes:
    api = ApiRoutes()
    # The success body is text/csv; Operation describes JSON bodies, so none is declared.
    own, admin = (401, 422), (401, 403, 422)
    api.add(
        export_donations,
        Operation(
            "GET",
            "/exports/donations.csv",
            "Your donations as CSV",
            "exports",
            query=DonationExportQuery,
            errors=own,
        ),
    )
    api.add(
        export_matches,
        Operation(
            "GET",
            "/exports/matches.csv",
            "Your matches as CSV",
            "exports",
            query=MatchExportQuery,
            errors=own,
        ),
    )
    api.add(
        export_payouts,
        Operation(
            "GET",
            "/exports/payouts.csv",
            "Your payouts as CSV",
            "exports",
            query=payouts.PayoutExportQuery,
            errors=own,
        ),
    )
    api.add(
        admin_export_donations,
        Operation(
            "GET",
            "/admin/exports/donations.csv",
            "Donations as CSV",
            "admin",
            query=AdminDonationExportQuery,
            errors=admin,
        ),
    )
    api.add(
        admin_export_matches,
        Operation(
            "GET",
            "/admin/exports/matches.csv",
            "Matches as CSV",
            "admin",
            query=AdminMatchExportQuery,
            errors=admin,
        ),
    )
    api.add(
        admin_export_payouts,
        Operation(
            "GET",
            "/admin/exports/payouts.csv",
            "Payouts as CSV",
            "admin",
            query=payouts.AdminPayoutExportQuery,
            errors=admin,
        ),
    )
    api.add(
        admin_export_audit_log,
        Operation(
            "GET",
            "/admin/exports/audit-log.csv",
            "The audit log as CSV",
            "admin",
            query=AuditExportQuery,
            errors=admin,
        ),
    )
    return api
