"""Verification and moderation queues: nonprofits waiting for verification, campaigns in review.

Thin: read the form (CSRF-checked), call the existing use case, which audits, then redirect.
A reason that is missing or not acceptable re-renders the queue with the message next to it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.campaign import service as campaigns
from campaigns.campaign.models import Campaign
from campaigns.console import queue_repository
from campaigns.console.auth import admin_page
from campaigns.moderation import screen
from campaigns.moderation import service as reports
from campaigns.moderation.models import CampaignReport
from campaigns.moderation.screen import ContentFlag
from campaigns.nonprofits import service as nonprofits
from campaigns.nonprofits.models import Nonprofit, NonprofitStatus
from service.auth.models import Admin, AdminRole
from service.errors import DomainError, NotFound
from service.pagination import Cursor, InvalidCursor, next_cursor
from service.unit_of_work import UnitOfWork
from service.validation import Reason
from service.web.context import database
from service.web.pages import flash, read_form, redirect, render
from service.web.urls import path_for

PAGE_SIZE = 25
_REASON = TypeAdapter(Reason)
NONPROFIT_TABS = {
    NonprofitStatus.PENDING_VERIFICATION: "Waiting",
    NonprofitStatus.REJECTED: "Rejected",
    NonprofitStatus.VERIFIED: "Verified",
}


def form_text(form: FormData, name: str) -> str:
    raw = form.get(name)
    return raw if isinstance(raw, str) else ""


def read_reason(form: FormData, name: str, *, required: bool) -> tuple[str | None, str | None]:
    """(the text or None, a message for the field or None)."""
    text = form_text(form, name).strip()
    if not text:
        return None, ("write a reason: the nonprofit sees it" if required else None)
    try:
        return _REASON.validate_python(text), None
    except ValidationError as e:
        error = e.errors()[0]
        if error["type"] == "string_too_short":
            return None, "write at least 3 characters"
        if error["type"] == "string_too_long":
            return None, "write at most 2000 characters"
        return None, str(error["msg"]).removeprefix("Value error, ")


def orphan_errors(errors: dict[str, str], shown: set[str]) -> list[str]:
    """Errors about an item the page no longer lists (someone else decided it meanwhile)."""
    return [message for key, message in errors.items() if key.split(":")[0] not in shown]


def _cursor(request: Request) -> str | None:
    raw = request.query_params.get("cursor") or None
    if raw is None:
        return None
    try:
        Cursor.decode(raw)
    except InvalidCursor:
        return None
    return raw


def _status(value: str | None) -> NonprofitStatus:
    try:
        return NonprofitStatus(value or NonprofitStatus.PENDING_VERIFICATION)
    except ValueError:
        return NonprofitStatus.PENDING_VERIFICATION


async def _nonprofit_queue(
    session: AsyncSession, *, status: NonprofitStatus, cursor: str | None
) -> dict[str, Any]:
    rows = await nonprofits.list_nonprofits(session, status=status, limit=PAGE_SIZE, cursor=cursor)
    shown = rows[:PAGE_SIZE]
    ids = [n.id for n in shown]
    return {
        "nonprofits": shown,
        "members": await queue_repository.members_of(session, ids),
        "campaign_counts": await queue_repository.campaign_counts(session, ids),
        "status": status,
        "tabs": NONPROFIT_TABS,
        "next_cursor": next_cursor(rows, PAGE_SIZE),
        "paged": cursor is not None,
    }


async def _render_nonprofits(
    request: Request,
    admin: Admin,
    *,
    status: NonprofitStatus,
    cursor: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with database(request).transaction() as session:
        context = await _nonprofit_queue(session, status=status, cursor=cursor)
    shown = {str(n.id) for n in context["nonprofits"]}
    context |= {
        "admin": admin,
        "errors": errors or {},
        "values": values or {},
        "page_errors": orphan_errors(errors or {}, shown),
    }
    return render(request, "console/nonprofits.html", context, status_code, language="en")


@admin_page(AdminRole.REVIEWER)
async def nonprofit_queue(request: Request, admin: Admin) -> Response:
    status = _status(request.query_params.get("status"))
    return await _render_nonprofits(request, admin, status=status, cursor=_cursor(request))


@admin_page(AdminRole.REVIEWER)
async def verify_nonprofit(request: Request, admin: Admin) -> Response:
    return await _decide_nonprofit(request, admin, verify=True)


@admin_page(AdminRole.REVIEWER)
async def reject_nonprofit(request: Request, admin: Admin) -> Response:
    return await _decide_nonprofit(request, admin, verify=False)


async def _decide_nonprofit(request: Request, admin: Admin, *, verify: bool) -> Response:
    nonprofit_id: uuid.UUID = request.path_params["nonprofit_id"]
    form = await read_form(request)
    tab = _status(form_text(form, "tab"))
    field = "note" if verify else "reason"
    key = f"{nonprofit_id}:{field}"
    values = {key: form_text(form, field)}
    text, problem = read_reason(form, field, required=not verify)
    if problem is not None:
        return await _render_nonprofits(
            request, admin, status=tab, errors={key: problem}, values=values, status_code=422
        )
    try:
        async with database(request).transaction() as session:
            if verify:
                nonprofit = await nonprofits.verify_nonprofit(
                    session, admin=admin, nonprofit_id=nonprofit_id, note=text
                )
            else:
                nonprofit = await nonprofits.reject_nonprofit(
                    session, admin=admin, nonprofit_id=nonprofit_id, reason=text or ""
                )
    except DomainError as e:
        errors = {f"{nonprofit_id}:form": e.detail}
        return await _render_nonprofits(
            request, admin, status=tab, errors=errors, values=values, status_code=e.status_code
        )
    flash(request, f"{nonprofit.name} is {nonprofit.status.value.replace('_', ' ')}.")
    return redirect(f"{path_for(request, 'console:nonprofits')}?status={tab.value}")


@dataclass(frozen=True)
class CampaignItem:
    campaign: Campaign
    nonprofit: Nonprofit | None
    flags: list[ContentFlag]
    reports: list[CampaignReport]


@dataclass(frozen=True)
class CampaignDecision:
    field: str
    """The form field that carries the text: "reason" (the nonprofit sees it) or "note"."""
    required: bool
    done: str
    """The flash after it worked, formatted with the campaign's title."""


CAMPAIGN_DECISIONS = {
    "approve": CampaignDecision("note", required=False, done="{title} is live."),
    "reject": CampaignDecision(
        "reason", required=True, done="{title} went back to the nonprofit as a draft."
    ),
    "pause": CampaignDecision(
        "reason", required=True, done="{title} is paused: no new donations or matches until you resume it."
    ),
    # Lifting a moderator's pause is a decision too: the log says why it is safe again.
    "resume": CampaignDecision("note", required=True, done="{title} is live again."),
    "resolve": CampaignDecision("note", required=True, done="Reports on {title} are resolved."),
}


async def _campaign_queue(session: AsyncSession, *, cursor: str | None) -> dict[str, Any]:
    rows = await campaigns.list_review_queue(session, limit=PAGE_SIZE, cursor=cursor)
    in_review = rows[:PAGE_SIZE]
    counts = await reports.open_report_counts(session)
    reviewing = {c.id for c in in_review}
    reported = sorted(
        await queue_repository.campaigns_by_id(session, [cid for cid in counts if cid not in reviewing]),
        key=lambda c: -counts[c.id],
    )
    listed = reviewing | {c.id for c in reported}
    paused = [
        c
        for c in await queue_repository.campaigns_paused_by_moderators(session, limit=PAGE_SIZE)
        if c.id not in listed
    ]
    everything = [*in_review, *reported, *paused]
    owners = await queue_repository.nonprofits_by_id(session, list({c.nonprofit_id for c in everything}))
    open_reports: dict[uuid.UUID, list[CampaignReport]] = defaultdict(list)
    for report in await reports.list_open_reports(session, limit=1000):
        open_reports[report.campaign_id].append(report)

    def item(c: Campaign) -> CampaignItem:
        flags = screen.screen_campaign(c.title, c.story_markdown)
        return CampaignItem(c, owners.get(c.nonprofit_id), flags, open_reports.get(c.id, []))

    return {
        "in_review": [item(c) for c in in_review],
        "reported": [item(c) for c in reported],
        "paused": [item(c) for c in paused],
        "shown": {str(c.id) for c in everything},
        "next_cursor": next_cursor(rows, PAGE_SIZE),
        "paged": cursor is not None,
    }


async def _render_campaigns(
    request: Request,
    admin: Admin,
    *,
    cursor: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with database(request).transaction() as session:
        context = await _campaign_queue(session, cursor=cursor)
    context |= {
        "admin": admin,
        "errors": errors or {},
        "values": values or {},
        "page_errors": orphan_errors(errors or {}, context["shown"]),
    }
    return render(request, "console/campaigns.html", context, status_code, language="en")


@admin_page(AdminRole.REVIEWER)
async def campaign_queue(request: Request, admin: Admin) -> Response:
    return await _render_campaigns(request, admin, cursor=_cursor(request))


@admin_page(AdminRole.REVIEWER)
async def decide_campaign(request: Request, admin: Admin) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    action: str = request.path_params["action"]
    decision = CAMPAIGN_DECISIONS.get(action)
    if decision is None:
        raise NotFound("no such decision")
    form = await read_form(request)
    key = f"{campaign_id}:{action}"
    values = {key: form_text(form, decision.field)}
    text, problem = read_reason(form, decision.field, required=decision.required)
    if problem is not None:
        return await _render_campaigns(request, admin, errors={key: problem}, values=values, status_code=422)
    try:
        async with database(request).transaction() as session:
            campaign = await _apply_campaign_decision(session, admin, action, campaign_id, text)
    except DomainError as e:
        errors = {f"{campaign_id}:form": e.detail}
        return await _render_campaigns(
            request, admin, errors=errors, values=values, status_code=e.status_code
        )
    flash(request, decision.done.format(title=f"\u201c{campaign.title}\u201d"))
    return redirect(path_for(request, "console:campaigns"))


async def _apply_campaign_decision(
    session: UnitOfWork, admin: Admin, action: str, campaign_id: uuid.UUID, text: str | None
) -> Campaign:
    """One use case per decision; each checks the campaign's status and writes the audit log."""
    if action == "approve":
        return await campaigns.approve_campaign(session, admin=admin, campaign_id=campaign_id, note=text)
    if action == "resume":
        return await campaigns.admin_resume_campaign(session, admin=admin, campaign_id=campaign_id, note=text)
    required = text or ""  # the decision table made these required; read_reason refused blanks
    if action == "reject":
        return await campaigns.reject_campaign(session, admin=admin, campaign_id=campaign_id, reason=required)
    if action == "pause":
        return await campaigns.admin_pause_campaign(
            session, admin=admin, campaign_id=campaign_id, reason=required
        )
    await reports.resolve_reports(session, admin=admin, campaign_id=campaign_id, note=required)
    [campaign] = await queue_repository.campaigns_by_id(session, [campaign_id])  # resolve found it
    return campaign


routes: list[BaseRoute] = [
    Route("/nonprofits", nonprofit_queue, methods=["GET"], name="nonprofits"),
    Route(
        "/nonprofits/{nonprofit_id:uuid}/verify", verify_nonprofit, methods=["POST"], name="nonprofit_verify"
    ),
    Route(
        "/nonprofits/{nonprofit_id:uuid}/reject", reject_nonprofit, methods=["POST"], name="nonprofit_reject"
    ),
    Route("/campaigns", campaign_queue, methods=["GET"], name="campaigns"),
    Route(
        "/campaigns/{campaign_id:uuid}/{action:str}",
        decide_campaign,
        methods=["POST"],
        name="campaign_decide",
    ),
]
