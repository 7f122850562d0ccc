"""JSON API of the wall of support and of campaign updates.

The nonprofit's side (`/campaigns/{id}/messages`, `/campaigns/{id}/updates`) is tenant-scoped
through `campaign.service.get_campaign` (another organisation's campaign is a 404); the public
list of updates (`/public/campaigns/{slug}/updates`) is cacheable like the campaign page.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from campaigns.giving import updates, wall
from campaigns.giving.models import CampaignUpdate
from campaigns.giving.wall_schemas import (
    FlagOut,
    MessageList,
    MessageOut,
    MessageQuery,
    PublicUpdateList,
    PublicUpdateOut,
    PublishIn,
    UpdateIn,
    UpdateList,
    UpdateOut,
)
from campaigns.nonprofits.web import api_actor
from service.auth.models import AdminRole
from service.pagination import PageQuery
from service.web.api import ApiRoutes, Operation, json_response, parse_json, parse_query
from service.web.context import database
from service.web.guards import api_admin

PUBLIC_CACHE = "public, max-age=30, stale-while-revalidate=60"


def message_out(message: wall.Message) -> MessageOut:
    s = message.supporter
    return MessageOut(
        donation_id=s.donation_id,
        created_at=s.created_at,
        name=s.name,
        anonymous=s.anonymous,
        display_name=s.display_name,
        amount_minor=s.amount_minor,
        currency=s.currency,
        hide_amount=s.hide_amount,
        message=s.message,
        status=s.message_status,
        flags=[FlagOut(term=f.term, category=f.category, sentence=f.sentence) for f in message.flags],
        open_reports=message.open_reports,
    )


def update_out(update: CampaignUpdate) -> UpdateOut:
    return UpdateOut(
        id=update.id,
        campaign_id=update.campaign_id,
        title=update.title,
        body=update.body_markdown,
        body_html=update.body_html,
        status=update.status,
        flags=list(update.flags),
        created_at=update.created_at,
    )


async def list_messages(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    query = parse_query(request, MessageQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        _, page = await wall.list_messages(
            session,
            actor=actor,
            campaign_id=campaign_id,
            status=query.status,
            limit=query.limit,
            cursor=query.cursor,
        )
    return json_response(
        MessageList(data=[message_out(m) for m in page.messages], next_cursor=page.next_cursor)
    )


async def _set_message(request: Request, *, show: bool) -> Response:
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        message = await wall.set_message_status(
            session,
            actor=actor,
            campaign_id=request.path_params["campaign_id"],
            donation_id=request.path_params["donation_id"],
            show=show,
        )
    return json_response(message_out(message))


async def hide_message(request: Request) -> Response:
    return await _set_message(request, show=False)


async def show_message(request: Request) -> Response:
    return await _set_message(request, show=True)


async def post_update(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    data = await parse_json(request, UpdateIn)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        update, _ = await updates.post_update(
            session, actor=actor, campaign_id=campaign_id, title=data.title, body=data.body
        )
    return json_response(update_out(update), 201)


async def list_updates(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    query = parse_query(request, PageQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        _, page = await updates.list_updates(
            session, actor=actor, campaign_id=campaign_id, limit=query.limit, cursor=query.cursor
        )
    return json_response(UpdateList(data=[update_out(u) for u in page.updates], next_cursor=page.next_cursor))


async def delete_update(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        await updates.delete_update(
            session,
            actor=actor,
            campaign_id=request.path_params["campaign_id"],
            update_id=request.path_params["update_id"],
        )
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


async def public_updates(request: Request) -> Response:
    query = parse_query(request, PageQuery)
    async with database(request).transaction() as session:
        _, page = await updates.public_updates(
            session, slug=request.path_params["slug"], limit=query.limit, cursor=query.cursor
        )
    out = PublicUpdateList(
        data=[
            PublicUpdateOut(id=u.id, title=u.title, body_html=u.body_html, created_at=u.created_at)
            for u in page.updates
        ],
        next_cursor=page.next_cursor,
    )
    response = json_response(out)
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


async def list_held_updates(request: Request) -> Response:
    query = parse_query(request, PageQuery)
    async with database(request).transaction() as session:
        await api_admin(request, session, AdminRole.REVIEWER)
        page = await updates.list_held_updates(session, limit=query.limit, cursor=query.cursor)
    return json_response(UpdateList(data=[update_out(u) for u in page.updates], next_cursor=page.next_cursor))


async def publish_update(request: Request) -> Response:
    data = await parse_json(request, PublishIn)
    async with database(request).transaction() as session:
        admin = await api_admin(request, session, AdminRole.REVIEWER)
        update = await updates.publish_update(
            session, admin=admin, update_id=request.path_params["update_id"], note=data.note
        )
    return json_response(update_out(update))


def build() -> ApiRoutes:
    api = ApiRoutes()
    tag = "wall"
    api.add(
        list_messages,
        Operation(
            "GET",
            "/campaigns/{campaign_id:uuid}/messages",
            "A campaign's wall of support: donors' names and messages with the keyword screen's flags",
            tag,
            query=MessageQuery,
            response=MessageList,
            errors=(400, 401, 404, 422),
        ),
    )
    for endpoint, verb, summary in (
        (hide_message, "hide", "Hide a donor's name and message from the wall (the gift shows as Anonymous)"),
        (show_message, "show", "Show a donor's name and message on the wall (also approves a pending one)"),
    ):
        api.add(
            endpoint,
            Operation(
                "POST",
                f"/campaigns/{{campaign_id:uuid}}/messages/{{donation_id:uuid}}/{verb}",
                summary,
                tag,
                response=MessageOut,
                errors=(401, 403, 404),
            ),
        )
    api.add(
        post_update,
        Operation(
            "POST",
            "/campaigns/{campaign_id:uuid}/updates",
            "Post a campaign update (Markdown, sanitised; held if the keyword screen flags it)",
            tag,
            body=UpdateIn,
            response=UpdateOut,
            status_code=201,
            errors=(400, 401, 403, 404, 409, 422),
        ),
    )
    api.add(
        list_updates,
        Operation(
            "GET",
            "/campaigns/{campaign_id:uuid}/updates",
            "A campaign's updates, held ones included, newest first",
            tag,
            query=PageQuery,
            response=UpdateList,
            errors=(400, 401, 404, 422),
        ),
    )
    api.add(
        delete_update,
        Operation(
            "DELETE",
            "/campaigns/{campaign_id:uuid}/updates/{update_id:uuid}",
            "Delete a campaign update",
            tag,
            status_code=204,
            errors=(401, 403, 404),
        ),
    )
    api.add(
        public_updates,
        Operation(
            "GET",
            "/public/campaigns/{slug}/updates",
            "A public campaign's published updates, newest first (cacheable)",
            tag,
            query=PageQuery,
            response=PublicUpdateList,
            auth=None,
            errors=(400, 404, 422),
        ),
    )
    api.add(
        list_held_updates,
        Operation(
            "GET",
            "/admin/campaign-updates/held",
            "Campaign updates the keyword screen held, newest first",
            "admin",
            query=PageQuery,
            response=UpdateList,
            errors=(400, 401, 403, 422),
        ),
    )
    api.add(
        publish_update,
        Operation(
            "POST",
            "/admin/campaign-updates/{update_id:uuid}/publish",
            "Publish a held campaign update after looking at it",
            "admin",
            body=PublishIn,
            response=UpdateOut,
            errors=(400, 401, 403, 404, 422),
        ),
    )
    return api
