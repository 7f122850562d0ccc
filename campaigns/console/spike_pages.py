"""Campaign spikes in the match queue: held spike matches grouped per campaign, one decision each.

Thin: read the request (CSRF-checked), call `spikes.approve_spike` (which goes through the
bulk approval use case and audits), render. A refusal (own organisation, the group changed
since the page was loaded) is shown on the page with its 4xx status, never a 500.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console.auth import admin_page, has_role
from campaigns.matching import spikes
from campaigns.matching.lifecycle import BulkOutcome
from service.auth.models import Admin, AdminRole
from service.errors import DomainError
from service.web.context import database
from service.web.pages import form_values, read_form, render

DECIDERS = (AdminRole.REVIEWER, AdminRole.SUPERADMIN)
NOTE_MAX_CHARS = 2000
TEMPLATE = "console/spikes.html"


@admin_page()
async def spikes_page(request: Request, admin: Admin) -> Response:
    return await _page(request, admin)


async def _page(
    request: Request,
    admin: Admin,
    *,
    decided: uuid.UUID | None = None,
    outcome: BulkOutcome | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with database(request).transaction() as session:
        groups = await spikes.list_spikes(session)
    context: dict[str, Any] = {
        "admin": admin,
        "groups": groups,
        "can_decide": has_role(admin, *DECIDERS),
        "decided": decided,
        "outcome": outcome,
        "errors": errors or {},
    }
    return render(request, TEMPLATE, context, status_code, language="en")


@admin_page(*DECIDERS)
async def approve_spike(request: Request, admin: Admin) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    values = form_values(await read_form(request))
    note = values.get("note", "").strip() or None
    field = f"spike:{campaign_id}"
    if note is not None and len(note) > NOTE_MAX_CHARS:
        errors = {field: f"the note is too long (at most {NOTE_MAX_CHARS} characters)"}
        return await _page(request, admin, errors=errors, status_code=422)
    try:
        # A decision is a unit of work run again whole on a deadlock (docs/architecture.md).
        outcome = await database(request).run(
            "approve_spike",
            lambda session: spikes.approve_spike(
                session,
                admin=admin,
                campaign_id=campaign_id,
                seen_digest=values.get("seen", ""),
                note_text=note,
            ),
        )
    except DomainError as e:
        return await _page(request, admin, errors={field: e.detail}, status_code=e.status_code)
    return await _page(request, admin, decided=campaign_id, outcome=outcome)


routes: list[BaseRoute] = [
    Route("/matches/spikes", spikes_page, methods=["GET"], name="spikes"),
    Route(
        "/matches/spikes/{campaign_id:uuid}/approve", approve_spike, methods=["POST"], name="spike_approve"
    ),
]
