"""The nonprofit's fundraiser pages (#15): supporters' pages per campaign, each one's gifts, and
the decisions on them (approve, hide, unhide, end; hide, unhide and end with an optional note
for the audit log), plus their CSV downloads.

Thin: the fundraising service holds tenant isolation (another organisation's page is a 404),
the roles (an editor decides, a viewer looks) and the audit log; a refused decision (the page
moved meanwhile, or its owner changed it since it was shown: approving sends the
`content_revision` it showed) re-renders the page with the reason. Ending is final, so it has its own
confirmation page.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.campaign import service as campaigns
from campaigns.dashboard import fundraiser_rows
from campaigns.dashboard.auth import Endpoint, has_role, require_actor, signed_in
from campaigns.exports import fundraiser_donations, fundraisers
from campaigns.exports import service as exports
from campaigns.exports.spec import Export
from campaigns.exports.web import csv_response, parse_page_query
from campaigns.fundraising import service as fundraising
from campaigns.fundraising.errors import FundraiserChanged, IllegalFundraiserTransition
from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service.unit_of_work import UnitOfWork
from service.web.context import database
from service.web.language import gettext_for, page_language
from service.web.messages import N_
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

PAGE_SIZE = 50
NOTE_LIMIT = 2000
Decide = Callable[..., Awaitable[Fundraiser]]


@dataclass(frozen=True)
class Decision:
    label: str
    done: str
    takes_note: bool
    done_pending: str | None = None
    """What to say when the page waits for approval afterwards (unhiding a page hidden before
    it was approved returns it there)."""


DECISIONS: dict[str, tuple[Decide, Decision]] = {
    "approve": (
        fundraising.approve,
        Decision(label=N_("Approve"), done=N_("%(title)s is live."), takes_note=False),
    ),
    "hide": (
        fundraising.hide,
        Decision(label=N_("Hide"), done=N_("%(title)s is hidden. You can show it again."), takes_note=True),
    ),
    "unhide": (
        fundraising.unhide,
        Decision(
            label=N_("Show again"),
            done=N_("%(title)s is live again."),
            takes_note=True,
            done_pending=N_("%(title)s is no longer hidden and waits for your approval."),
        ),
    ),
    "end": (
        fundraising.end,
        Decision(label=N_("End"), done=N_("%(title)s has ended."), takes_note=True),
    ),
}
# Which decisions a page in each status offers (the service refuses the others anyway).
_OFFERED: dict[FundraiserStatus, tuple[str, ...]] = {
    FundraiserStatus.PENDING_EMAIL: ("end",),
    FundraiserStatus.PENDING_APPROVAL: ("approve", "hide", "end"),
    FundraiserStatus.LIVE: ("hide", "end"),
    FundraiserStatus.HIDDEN: ("unhide", "end"),
    FundraiserStatus.ENDED: (),
}


def offered(status: FundraiserStatus) -> tuple[str, ...]:
    return _OFFERED[status]


@signed_in
async def all_fundraisers(request: Request) -> Response:
    return await _list_page(request, campaign_id=None)


@signed_in
async def campaign_fundraisers(request: Request) -> Response:
    return await _list_page(request, campaign_id=request.path_params["campaign_id"])


async def _list_page(request: Request, *, campaign_id: uuid.UUID | None) -> Response:
    status = _status(request.query_params.get("status"))
    page = _page_number(request.query_params.get("page"))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        campaign = (
            await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
            if campaign_id
            else None
        )
        found = await fundraising.list_for_nonprofit(
            session,
            actor=actor,
            campaign_id=campaign_id,
            status=status,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        rows = await fundraiser_rows.rows_for(
            session, nonprofit_id=actor.nonprofit_id, fundraisers=found[:PAGE_SIZE]
        )
    context = {
        "actor": actor,
        "campaign": campaign,
        "rows": rows,
        "status": status.value if status else "",
        "statuses": fundraiser_rows.STATUS_LABELS,
        "page": page,
        "has_next": len(found) > PAGE_SIZE,
        "can_edit": has_role(actor, MemberRole.EDITOR),
        "offered": offered,
        "decisions": {name: decision for name, (_, decision) in DECISIONS.items()},
    }
    return render(request, "dashboard/fundraisers.html", context)


@signed_in
async def fundraiser_detail(request: Request) -> Response:
    return await _detail_page(request, request.path_params["fundraiser_id"])


async def _detail_page(
    request: Request,
    fundraiser_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
    template: str = "dashboard/fundraiser.html",
) -> Response:
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        context = await _detail_context(session, actor, fundraiser_id)
    context |= {"errors": errors or {}, "values": values or {}}
    return render(request, template, context, status_code)


async def _detail_context(session: UnitOfWork, actor: Actor, fundraiser_id: uuid.UUID) -> dict[str, Any]:
    fundraiser = await fundraising.get_for_actor(session, actor=actor, fundraiser_id=fundraiser_id)
    [row] = await fundraiser_rows.rows_for(session, nonprofit_id=actor.nonprofit_id, fundraisers=[fundraiser])
    gifts = fundraiser_rows.gift_rows(
        await fundraising.attributed_donations(session, fundraiser_id=fundraiser.id)
    )
    return {
        "actor": actor,
        "row": row,
        "fundraiser": fundraiser,
        "gifts": gifts,
        "settled": len(fundraiser_rows.settled(gifts)),
        "statuses": fundraiser_rows.STATUS_LABELS,
        "donation_statuses": fundraiser_rows.DONATION_STATUS_LABELS,
        "can_edit": has_role(actor, MemberRole.EDITOR),
        "offered": offered(fundraiser.status),
        "decisions": {name: decision for name, (_, decision) in DECISIONS.items()},
        "note_limit": NOTE_LIMIT,
        "unhide_to": (
            fundraising.unhide_target(fundraiser).value
            if fundraiser.status is FundraiserStatus.HIDDEN
            else None
        ),
    }


@signed_in
async def end_confirmation(request: Request) -> Response:
    return await _detail_page(
        request, request.path_params["fundraiser_id"], template="dashboard/fundraiser_end.html"
    )


def decision_endpoint(action: str) -> Endpoint:
    decide, decision = DECISIONS[action]

    @signed_in
    async def endpoint(request: Request) -> Response:
        fundraiser_id: uuid.UUID = request.path_params["fundraiser_id"]
        form = form_values(await read_form(request))
        note = form.get("note", "").strip() if decision.takes_note else ""
        if len(note) > NOTE_LIMIT:
            errors = {"note": N_("Please keep this to %(n)s characters or fewer.", n=NOTE_LIMIT)}
            template = "dashboard/fundraiser_end.html" if action == "end" else "dashboard/fundraiser.html"
            return await _detail_page(
                request,
                fundraiser_id,
                errors=errors,
                values={"note": note},
                status_code=422,
                template=template,
            )
        extra: dict[str, Any] = {"note": note or None} if decision.takes_note else {}
        if action == "approve":
            # The revision the page showed: an edit made since is refused, never approved unseen.
            shown = form.get("revision", "")
            extra["expected_revision"] = int(shown) if shown.isdigit() and len(shown) < 10 else None
        try:
            async with database(request).transaction() as session:
                actor = await require_actor(request, session)
                fundraiser = await decide(session, actor=actor, fundraiser_id=fundraiser_id, **extra)
        except (IllegalFundraiserTransition, FundraiserChanged) as e:
            return await _detail_page(
                request, fundraiser_id, errors={"form": e.detail}, status_code=e.status_code
            )
        lang = page_language(request)
        title = f"\u201c{fundraiser.title}\u201d"
        done = decision.done
        if decision.done_pending and fundraiser.status is FundraiserStatus.PENDING_APPROVAL:
            done = decision.done_pending
        flash(request, gettext_for(lang)(str(done), title=title))
        if form.get("return_to") == "list":
            return redirect(path_for(request, "dashboard:fundraisers", campaign_id=fundraiser.campaign_id))
        return redirect(path_for(request, "dashboard:fundraiser", fundraiser_id=fundraiser_id))

    endpoint.__name__ = f"{action}_fundraiser"
    return endpoint


async def _download(request: Request, export: Export[Any, Any], model: type[BaseModel]) -> Response:
    db = database(request)
    async with db.transaction() as session:
        actor = await require_actor(request, session)
        filters = parse_page_query(request, model)
        chunks = await exports.start_nonprofit_export(
            session, db, actor=actor, export=export, filters=filters
        )
    return csv_response(chunks, filename=exports.filename(export.name, at=db.clock.now()))


@signed_in
async def export_fundraisers(request: Request) -> Response:
    return await _download(request, fundraisers.EXPORT, fundraisers.FundraiserExportQuery)


@signed_in
async def export_fundraiser_donations(request: Request) -> Response:
    return await _download(
        request, fundraiser_donations.EXPORT, fundraiser_donations.FundraiserDonationExportQuery
    )


def _status(value: str | None) -> FundraiserStatus | None:
    # The filter comes from a select; anything else lists every status rather than nothing.
    try:
        return FundraiserStatus(value) if value else None
    except ValueError:
        return None


def _page_number(value: str | None) -> int:
    if value is None or not value.isdigit() or len(value) > 6:
        return 1
    return max(1, int(value))


routes: list[BaseRoute] = [
    Route("/fundraisers", all_fundraisers, methods=["GET"], name="fundraisers_all"),
    Route(
        "/campaigns/{campaign_id:uuid}/fundraisers", campaign_fundraisers, methods=["GET"], name="fundraisers"
    ),
    Route("/fundraisers/{fundraiser_id:uuid}", fundraiser_detail, methods=["GET"], name="fundraiser"),
    Route("/fundraisers/{fundraiser_id:uuid}/end", end_confirmation, methods=["GET"], name="fundraiser_end"),
    Route(
        "/fundraisers/{fundraiser_id:uuid}/end",
        decision_endpoint("end"),
        methods=["POST"],
        name="fundraiser_end_submit",
    ),
    *[
        Route(
            f"/fundraisers/{{fundraiser_id:uuid}}/{action}",
            decision_endpoint(action),
            methods=["POST"],
            name=f"fundraiser_{action}",
        )
        for action in ("approve", "hide", "unhide")
    ],
    Route("/exports/fundraisers.csv", export_fundraisers, methods=["GET"], name="export_fundraisers"),
    Route(
        "/exports/fundraiser-donations.csv",
        export_fundraiser_donations,
        methods=["GET"],
        name="export_fundraiser_donations",
    ),
]
