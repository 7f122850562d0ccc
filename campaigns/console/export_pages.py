"""Downloads from the admin console: /admin/exports/*.csv for a signed-in admin (reviewer,
finance or superadmin), every organisation's rows unless narrowed with nonprofit_id.

Donations and matches take the API's filters (nonprofit_id, campaign_id, program_id, status,
since, until: ISO 8601, until exclusive); the audit log takes the audit page's query string
(action, subject_type, subject_id, actor, nonprofit, since, until: UTC days, both included).
A bad filter is a 400 page naming the parameter.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console.audit_pages import audit_filter_from_query
from campaigns.console.auth import admin_page
from campaigns.exports import audit_log, donations, matches, payouts, service
from campaigns.exports.schemas import (
    AdminDonationExportQuery,
    AdminMatchExportQuery,
    AdminScope,
)
from campaigns.exports.spec import Export
from campaigns.exports.web import InvalidFilter, csv_response, parse_page_query
from service.auth.models import Admin
from service.web.context import database


async def _admin_download(
    request: Request, admin: Admin, export: Export[Any, Any], model: type[AdminScope]
) -> Response:
    filters = parse_page_query(request, model)
    db = database(request)
    async with db.transaction() as session:
        chunks = await service.start_admin_export(
            session, db, admin=admin, export=export, filters=filters, nonprofit_id=filters.nonprofit_id
        )
    return csv_response(chunks, filename=service.filename(export.name, at=db.clock.now()))


@admin_page(*service.ADMIN_ROLES)
async def admin_donations(request: Request, admin: Admin) -> Response:
    return await _admin_download(request, admin, donations.EXPORT, AdminDonationExportQuery)


@admin_page(*service.ADMIN_ROLES)
async def admin_matches(request: Request, admin: Admin) -> Response:
    return await _admin_download(request, admin, matches.EXPORT, AdminMatchExportQuery)


@admin_page(*service.ADMIN_ROLES)
async def admin_payouts(request: Request, admin: Admin) -> Response:
    return await _admin_download(request, admin, payouts.EXPORT, payouts.AdminPayoutExportQuery)


@admin_page(*service.ADMIN_ROLES)
async def admin_audit_log(request: Request, admin: Admin) -> Response:
    # The audit page's own query string and parser: the file lists what the filtered page lists.
    query = audit_filter_from_query(request.query_params)
    if query.errors:
        raise InvalidFilter("; ".join(f"{name}: {message}" for name, message in query.errors.items()))
    db = database(request)
    async with db.transaction() as session:
        chunks = await service.start_admin_export(
            session, db, admin=admin, export=audit_log.EXPORT, filters=query.where, nonprofit_id=None
        )
    return csv_response(chunks, filename=service.filename(audit_log.EXPORT.name, at=db.clock.now()))


routes: list[BaseRoute] = [
    Route("/exports/donations.csv", admin_donations, methods=["GET"], name="export_donations"),
    Route("/exports/matches.csv", admin_matches, methods=["GET"], name="export_matches"),
    Route("/exports/payouts.csv", admin_payouts, methods=["GET"], name="export_payouts"),
    Route("/exports/audit-log.csv", admin_audit_log, methods=["GET"], name="export_audit_log"),
]
