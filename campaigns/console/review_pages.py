"""Match review pages: the queue (filters, bulk approve of low-risk matches) and one match's detail.

Thin: read the request, call one read query or one lifecycle use case, render. A refusal of
the service (own organisation, already approved, not waiting for a decision) is shown on the
page with the service's 4xx status, never as a 500.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from campaigns.console import review_chart
from campaigns.console.auth import admin_page, has_role
from campaigns.console.review_detail import match_detail
from campaigns.console.review_filters import ALL_STATUSES, export_query, parse_filters, query_string
from campaigns.console.review_repository import filter_choices, review_queue
from campaigns.matching import lifecycle, risk_settings
from campaigns.matching.lifecycle import BulkOutcome
from campaigns.matching.models import MatchStatus
from service.auth.models import Admin, AdminRole
from service.errors import DomainError
from service.web.context import database
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

DECIDERS = (AdminRole.REVIEWER, AdminRole.SUPERADMIN)
PAGE_SIZE = 50
NOTE_MAX_CHARS = 2000
STATUSES = [ALL_STATUSES, *(s.value for s in MatchStatus)]


def _detail_url(request: Request, match_id: uuid.UUID) -> str:
    return path_for(request, "console:match", match_id=match_id)


@admin_page()
async def queue(request: Request, admin: Admin) -> Response:
    return await _queue_page(request, admin, request.query_params)


async def _queue_page(
    request: Request,
    admin: Admin,
    params: Mapping[str, str],
    *,
    outcome: BulkOutcome | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    parsed = parse_filters(params)
    cursor = params.get("cursor") or None
    now = database(request).clock.now()
    async with database(request).transaction() as session:
        page = await review_queue(session, filters=parsed.filters, limit=PAGE_SIZE, cursor=cursor, now=now)
        programs, campaigns = await filter_choices(session)
    context: dict[str, Any] = {
        "admin": admin,
        "page": page,
        "values": parsed.values,
        "errors": {**parsed.errors, **(errors or {})},
        "statuses": STATUSES,
        "programs": programs,
        "campaigns": campaigns,
        "signals": risk_settings.SIGNALS,
        "can_decide": has_role(admin, *DECIDERS),
        "outcome": outcome,
        "cursor": cursor,
        "filter_query": query_string(parsed.values),
        "next_query": query_string(parsed.values, cursor=page.next_cursor or ""),
        "export_query": export_query(parsed.filters, now=now),
    }
    return render(
        request,
        "console/review_queue.html",
        context,
        status_code if not parsed.errors else 422,
        language="en",
    )


def _match_ids(form: FormData) -> tuple[list[uuid.UUID], list[str]]:
    ids: list[uuid.UUID] = []
    bad: list[str] = []
    for raw in form.getlist("match_id"):
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            bad.append(str(raw)[:40])
    return ids, bad


@admin_page(*DECIDERS)
async def bulk_approve(request: Request, admin: Admin) -> Response:
    form = await read_form(request)
    values = form_values(form)
    ids, bad = _match_ids(form)
    note = values.get("note", "").strip() or None
    if not ids:
        errors = {"bulk": "select at least one match to approve"}
        return await _queue_page(request, admin, values, errors=errors, status_code=422)
    if note is not None and len(note) > NOTE_MAX_CHARS:
        errors = {"bulk": f"the note is too long (at most {NOTE_MAX_CHARS} characters)"}
        return await _queue_page(request, admin, values, errors=errors, status_code=422)
    # Decisions are units of work run again whole on a deadlock (docs/architecture.md).
    outcome = await database(request).run(
        "bulk_approve_matches",
        lambda session: lifecycle.bulk_approve(session, admin=admin, match_ids=ids, note_text=note),
    )
    for raw in bad:
        flash(request, f"“{raw}” is not a match id; it was left out.")
    return await _queue_page(request, admin, values, outcome=outcome)


@admin_page()
async def detail(request: Request, admin: Admin) -> Response:
    return await _detail_page(request, admin, request.path_params["match_id"])


async def _detail_page(
    request: Request,
    admin: Admin,
    match_id: uuid.UUID,
    *,
    error: str | None = None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with database(request).transaction() as session:
        found = await match_detail(session, match_id=match_id, admin=admin, now=session.now())
    context: dict[str, Any] = {
        "admin": admin,
        "d": found,
        "chart": review_chart.daily_bars(found.pattern),
        "can_decide": has_role(admin, *DECIDERS),
        "decidable": found.match.status in (MatchStatus.PENDING, MatchStatus.HELD_FOR_REVIEW),
        "error": error,
        "values": values or {},
        "errors": errors or {},
    }
    return render(request, "console/review_detail.html", context, status_code, language="en")


def _note(values: Mapping[str, str], *, required: bool) -> tuple[str | None, dict[str, str]]:
    note = values.get("note", "").strip()
    if required and not note:
        return None, {"note": "say why: the nonprofit reads this reason"}
    if len(note) > NOTE_MAX_CHARS:
        return None, {"note": f"at most {NOTE_MAX_CHARS} characters"}
    return note or None, {}


@admin_page(*DECIDERS)
async def approve(request: Request, admin: Admin) -> Response:
    match_id: uuid.UUID = request.path_params["match_id"]
    values = form_values(await read_form(request))
    note, errors = _note(values, required=False)
    if errors:
        return await _detail_page(request, admin, match_id, values=values, errors=errors, status_code=422)
    try:
        match = await database(request).run(
            "approve_match",
            lambda session: lifecycle.approve_match(session, admin=admin, match_id=match_id, note_text=note),
        )
        status = match.status
    except DomainError as e:
        return await _refused(request, admin, match_id, e, values)
    if status is MatchStatus.APPROVED:
        flash(request, "The match is approved.")
    else:
        flash(request, "Your approval is recorded. Another admin must approve it too.")
    return redirect(_detail_url(request, match_id))


@admin_page(*DECIDERS)
async def reject(request: Request, admin: Admin) -> Response:
    match_id: uuid.UUID = request.path_params["match_id"]
    values = form_values(await read_form(request))
    note, errors = _note(values, required=True)
    if errors or note is None:
        return await _detail_page(request, admin, match_id, values=values, errors=errors, status_code=422)
    try:
        await database(request).run(
            "reject_match",
            lambda session: lifecycle.reject_match(session, admin=admin, match_id=match_id, note_text=note),
        )
    except DomainError as e:
        return await _refused(request, admin, match_id, e, values)
    flash(request, "The match is rejected; its money went back to the pool.")
    return redirect(_detail_url(request, match_id))


async def _refused(
    request: Request, admin: Admin, match_id: uuid.UUID, error: DomainError, values: Mapping[str, str]
) -> Response:
    """The service said no: show why on the match's page (a missing match is a plain 404 page)."""
    if error.status_code == 404:
        raise error
    return await _detail_page(
        request, admin, match_id, error=error.detail, values=values, status_code=error.status_code
    )


routes: list[BaseRoute] = [
    Route("/matches", queue, methods=["GET"], name="matches"),
    Route("/matches/bulk-approve", bulk_approve, methods=["POST"], name="matches_bulk_approve"),
    Route("/matches/{match_id:uuid}", detail, methods=["GET"], name="match"),
    Route("/matches/{match_id:uuid}/approve", approve, methods=["POST"], name="match_approve"),
    Route("/matches/{match_id:uuid}/reject", reject, methods=["POST"], name="match_reject"),
]
