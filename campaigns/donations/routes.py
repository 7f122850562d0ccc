"""Admin API: payment mismatches, the Stripe payments refused because they are not the donation's.

Finance admins and superadmins read them (reviewers get 403); nothing here changes money.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from campaigns.donations.mismatches import MismatchReason, PaymentMismatch, list_mismatches
from service.auth.models import AdminRole
from service.pagination import PageQuery, next_cursor
from service.web.api import ApiRoutes, Operation, json_response, parse_query
from service.web.context import database
from service.web.guards import api_admin

READERS = (AdminRole.FINANCE, AdminRole.SUPERADMIN)


class MismatchQuery(PageQuery):
    reason: MismatchReason | None = None


class PaymentMismatchOut(BaseModel):
    id: uuid.UUID
    stripe_event_id: str
    event_type: str
    stripe_account_id: str | None
    """The account the event came from; null for the platform."""
    stripe_object_id: str | None
    donation_id: uuid.UUID | None
    claimed_donation_id: uuid.UUID | None
    reason: MismatchReason
    expected_amount_minor: int | None
    received_amount_minor: int | None
    expected_currency: str | None
    received_currency: str | None
    expected_account_id: str | None
    """The account the payment should have come from; null for the platform."""
    detail: str
    created_at: datetime


class PaymentMismatchList(BaseModel):
    data: list[PaymentMismatchOut]
    next_cursor: str | None


def mismatch_out(row: PaymentMismatch) -> PaymentMismatchOut:
    return PaymentMismatchOut.model_validate(row, from_attributes=True)


async def admin_payment_mismatches(request: Request) -> Response:
    async with database(request).transaction() as session:
        # Who is asking first: an anonymous caller learns nothing, not even what the query takes.
        await api_admin(request, session, *READERS)
        query = parse_query(request, MismatchQuery)
        rows = await list_mismatches(session, reason=query.reason, limit=query.limit, cursor=query.cursor)
    page = PaymentMismatchList(
        data=[mismatch_out(row) for row in rows[: query.limit]],
        next_cursor=next_cursor(list(rows), query.limit),
    )
    return json_response(page)


def build() -> ApiRoutes:
    api = ApiRoutes()
    api.add(
        admin_payment_mismatches,
        Operation(
            "GET",
            "/admin/payment-mismatches",
            "Stripe payments refused because they are not the payment made for the donation they "
            "name (wrong account, amount or currency, unknown payment, disagreeing metadata), oldest first",
            "admin",
            query=MismatchQuery,
            response=PaymentMismatchList,
            errors=(400, 401, 403, 422),
        ),
    )
    return api
