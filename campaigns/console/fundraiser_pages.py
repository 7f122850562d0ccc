"""Moderators review supporters' pages (#15) at /admin/fundraisers: reported pages first, then
public pages the keyword screen flagged, then hidden ones. They hide (reversible), show again
or end a page, always with a reason; the fundraising service audits the decision, and the
page's open reports are closed with the same reason (by the service itself when a page ends).
Ended pages leave the queue (campaigns.console.fundraiser_queue).
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console import fundraiser_queue
from campaigns.console.auth import admin_page
from campaigns.console.queue_pages import form_text, read_reason
from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser
from service.auth.models import Admin, AdminRole
from service.errors import DomainError, NotFound
from service.unit_of_work import UnitOfWork
from service.web.context import database
from service.web.language import gettext_for
from service.web.messages import N_, translate
from service.web.pages import flash, read_form, redirect, render
from service.web.urls import path_for

DONE = {
    "hide": N_("%(title)s is hidden."),
    "unhide": N_("%(title)s is public again."),
    "end": N_("%(title)s has ended for good."),
}


async def _render(
    request: Request,
    admin: Admin,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with database(request).transaction() as session:
        queue = await fundraiser_queue.review_queue(session)
    shown = {str(it.fundraiser.id) for it in (*queue.reported, *queue.flagged, *queue.hidden)}
    page_errors = [translate(m, "en") for k, m in (errors or {}).items() if k.split(":")[0] not in shown]
    context = {
        "admin": admin,
        "queue": queue,
        "errors": errors or {},
        "values": values or {},
        "page_errors": page_errors,
    }
    # The console speaks English (its strings are marked for a later translation).
    return render(request, "console/fundraisers.html", context, status_code, language="en")


@admin_page(AdminRole.REVIEWER)
async def fundraiser_queue_page(request: Request, admin: Admin) -> Response:
    return await _render(request, admin)


@admin_page(AdminRole.REVIEWER)
async def decide_fundraiser(request: Request, admin: Admin) -> Response:
    fundraiser_id: uuid.UUID = request.path_params["fundraiser_id"]
    action: str = request.path_params["action"]
    form = await read_form(request)  # the CSRF check first, whatever the action
    if action not in DONE:
        raise NotFound("no such decision")
    key = f"{fundraiser_id}:{action}"
    values = {key: form_text(form, "reason")}
    reason, problem = read_reason(form, "reason", required=True)
    if problem is not None or reason is None:
        return await _render(request, admin, errors={key: problem or ""}, values=values, status_code=422)
    try:
        async with database(request).transaction() as session:
            fundraiser = await _apply(session, admin, action, fundraiser_id, reason)
    except DomainError as e:
        errors = {f"{fundraiser_id}:form": e.detail}
        return await _render(request, admin, errors=errors, values=values, status_code=e.status_code)
    title = f"\u201c{fundraiser.title}\u201d"
    flash(request, gettext_for("en")(str(DONE[action]), title=title))
    return redirect(path_for(request, "console:fundraisers"))


async def _apply(
    session: UnitOfWork, admin: Admin, action: str, fundraiser_id: uuid.UUID, reason: str
) -> Fundraiser:
    """The service decides and audits; the page's open reports close with the same reason."""
    if action == "end":
        # Ending closes the page's open reports itself, whoever ends it (fundraising.end).
        return await fundraising.end(session, actor=admin, fundraiser_id=fundraiser_id, note=reason)
    if action == "hide":
        fundraiser = await fundraising.hide(session, actor=admin, fundraiser_id=fundraiser_id, note=reason)
    else:
        fundraiser = await fundraising.unhide(session, actor=admin, fundraiser_id=fundraiser_id, note=reason)
    # A moderator who hid a page, or showed it again, has dealt with what was reported about it.
    await fundraising.close_reports(session, actor=admin, fundraiser=fundraiser, note=reason)
    return fundraiser


routes: list[BaseRoute] = [
    Route("/fundraisers", fundraiser_queue_page, methods=["GET"], name="fundraisers"),
    Route(
        "/fundraisers/{fundraiser_id:uuid}/{action:str}",
        decide_fundraiser,
        methods=["POST"],
        name="fundraiser_decide",
    ),
]
