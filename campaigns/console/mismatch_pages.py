"""The payment mismatches page: Stripe payments refused because they are not the donation's.

Finance and superadmins only, read-only. Each row is one webhook event whose payment named a
donation but was not the payment Goodloop created for it (see webhooks.handlers.binding);
the donation was left alone. Oldest first, 50 a page, optionally one reason.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console.auth import admin_page
from campaigns.donations.mismatches import MismatchReason, count_mismatches, list_mismatches
from service.auth.models import Admin, AdminRole
from service.pagination import InvalidCursor, next_cursor
from service.web.context import database
from service.web.pages import render

READERS = (AdminRole.FINANCE, AdminRole.SUPERADMIN)
PAGE_SIZE = 50


def _reason(raw: str | None) -> MismatchReason | None:
    try:
        return MismatchReason(raw) if raw else None
    except ValueError:
        return None


@admin_page(*READERS)
async def mismatches_page(request: Request, admin: Admin) -> Response:
    reason = _reason(request.query_params.get("reason"))
    cursor = request.query_params.get("cursor") or None
    async with database(request).transaction() as session:
        try:
            rows = list(await list_mismatches(session, reason=reason, limit=PAGE_SIZE, cursor=cursor))
        except InvalidCursor:
            # A cursor edited by hand starts the list over rather than failing the page.
            cursor = None
            rows = list(await list_mismatches(session, reason=reason, limit=PAGE_SIZE, cursor=None))
        total = await count_mismatches(session)
    context: dict[str, Any] = {
        "admin": admin,
        "mismatches": rows[:PAGE_SIZE],
        "total": total,
        "reasons": list(MismatchReason),
        "reason": reason,
        "cursor": cursor,
        "next_cursor": next_cursor(rows, PAGE_SIZE),
    }
    return render(request, "console/payment_mismatches.html", context, language="en")


routes: list[BaseRoute] = [
    Route("/payment-mismatches", mismatches_page, methods=["GET"], name="payment_mismatches")
]
