"""Dashboard pages for a campaign's wall of support (messages: hide, show, reports) and its
updates (post, delete). Thin: form -> giving's use case -> render; CSRF through read_form."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.dashboard.auth import has_role, require_actor, signed_in
from campaigns.dashboard.language import translator
from campaigns.donations.models import MessageStatus
from campaigns.giving import updates, wall
from campaigns.giving.wall_schemas import UpdateIn
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service.errors import ValidationFailed
from service.pagination import InvalidCursor
from service.unit_of_work import UnitOfWork
from service.web.api import validate
from service.web.context import database
from service.web.messages import N_
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

_FILTERS = {"all": None, "pending": MessageStatus.PENDING, "hidden": MessageStatus.HIDDEN}


@signed_in
async def messages_page(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    shown = request.query_params.get("status", "all")
    cursor = request.query_params.get("cursor") or None
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        try:
            campaign, page = await wall.list_messages(
                session,
                actor=actor,
                campaign_id=campaign_id,
                status=_FILTERS.get(shown),
                limit=wall.PAGE_SIZE,
                cursor=cursor,
            )
        except InvalidCursor:
            return redirect(path_for(request, "dashboard:campaign_messages", campaign_id=campaign_id))
    context = {
        "actor": actor,
        "campaign": campaign,
        "messages": page.messages,
        "next_cursor": page.next_cursor,
        "filter": shown if shown in _FILTERS else "all",
        "can_edit": has_role(actor, MemberRole.EDITOR),
        # The screen's reasons are English sentences (campaigns.moderation.screen).
        "in_language": translator(request),
    }
    return render(request, "dashboard/messages.html", context)


async def _set_message(request: Request, *, show: bool) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    await read_form(request)
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        await wall.set_message_status(
            session,
            actor=actor,
            campaign_id=campaign_id,
            donation_id=request.path_params["donation_id"],
            show=show,
        )
    _ = translator(request)
    flash(
        request, _("The message is on the wall again.") if show else _("The message is hidden from the wall.")
    )
    return redirect(path_for(request, "dashboard:campaign_messages", campaign_id=campaign_id))


@signed_in
async def hide_message(request: Request) -> Response:
    return await _set_message(request, show=False)


@signed_in
async def show_message(request: Request) -> Response:
    return await _set_message(request, show=True)


@signed_in
async def updates_page(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        return await _updates_page(request, session, actor, campaign_id)


@signed_in
async def post_update(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    values = form_values(await read_form(request))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        try:
            data = validate(
                UpdateIn,
                {"title": values.get("title", "").strip() or None, "body": values.get("body", "")},
            )
        except ValidationFailed as e:
            errors = {k: translator(request)(_update_error(k)) for k in e.fields}
            return await _updates_page(request, session, actor, campaign_id, values, errors, 422)
        _, flags = await updates.post_update(
            session, actor=actor, campaign_id=campaign_id, title=data.title, body=data.body
        )
    _ = translator(request)
    if flags:
        terms = ", ".join(f"“{f.term}”" for f in flags)
        flash(
            request,
            _("Saved, but held for a moderator before it goes public: it mentions %(terms)s.", terms=terms),
        )
    else:
        flash(request, _("Update posted. It is on the campaign page within a minute."))
    return redirect(path_for(request, "dashboard:campaign_updates", campaign_id=campaign_id))


@signed_in
async def delete_update(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    await read_form(request)
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        await updates.delete_update(
            session, actor=actor, campaign_id=campaign_id, update_id=request.path_params["update_id"]
        )
    _ = translator(request)
    flash(request, _("Update deleted."))
    return redirect(path_for(request, "dashboard:campaign_updates", campaign_id=campaign_id))


def _update_error(field: str) -> str:
    return {
        "title": N_("keep the title to one line of at most 200 characters"),
        "body": N_("write the update in 1 to 5,000 characters"),
    }.get(field, N_("this value is not valid"))


async def _updates_page(
    request: Request,
    session: UnitOfWork,
    actor: Actor,
    campaign_id: uuid.UUID,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    campaign, page = await updates.list_updates(
        session, actor=actor, campaign_id=campaign_id, limit=100, cursor=None
    )
    context: dict[str, Any] = {
        "actor": actor,
        "campaign": campaign,
        "updates": page.updates,
        "can_edit": has_role(actor, MemberRole.EDITOR),
        "values": values or {},
        "errors": errors or {},
    }
    return render(request, "dashboard/updates.html", context, status_code=status_code)


routes = [
    Route("/campaigns/{campaign_id:uuid}/messages", messages_page, methods=["GET"], name="campaign_messages"),
    Route(
        "/campaigns/{campaign_id:uuid}/messages/{donation_id:uuid}/hide",
        hide_message,
        methods=["POST"],
        name="campaign_message_hide",
    ),
    Route(
        "/campaigns/{campaign_id:uuid}/messages/{donation_id:uuid}/show",
        show_message,
        methods=["POST"],
        name="campaign_message_show",
    ),
    Route("/campaigns/{campaign_id:uuid}/updates", updates_page, methods=["GET"], name="campaign_updates"),
    Route(
        "/campaigns/{campaign_id:uuid}/updates",
        post_update,
        methods=["POST"],
        name="campaign_updates_submit",
    ),
    Route(
        "/campaigns/{campaign_id:uuid}/updates/{update_id:uuid}/delete",
        delete_update,
        methods=["POST"],
        name="campaign_update_delete",
    ),
]
