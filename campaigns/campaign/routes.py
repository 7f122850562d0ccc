"""JSON API for a nonprofit's campaigns."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from campaigns.campaign import covers, service
from campaigns.campaign.schemas import (
    CampaignIn,
    CampaignList,
    CampaignListQuery,
    CampaignOut,
    CampaignPatch,
    CoverUpload,
)
from campaigns.campaign.status import Action
from campaigns.campaign.web import UPLOAD_BODY_BYTES, campaign_out, prepare_and_store, read_cover_form
from campaigns.nonprofits.web import api_actor
from service.media import media_store
from service.pagination import next_cursor
from service.web.api import ApiRoutes, Operation, json_response, parse_json, parse_query
from service.web.context import database

Endpoint = Callable[[Request], Awaitable[Response]]


async def create_campaign(request: Request) -> Response:
    data = await parse_json(request, CampaignIn)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        campaign = await service.create_campaign(session, actor=actor, data=data)
    return json_response(campaign_out(request, campaign), 201)


async def list_campaigns(request: Request) -> Response:
    query = parse_query(request, CampaignListQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        rows = await service.list_campaigns(
            session, actor=actor, status=query.status, limit=query.limit, cursor=query.cursor
        )
    page = CampaignList(
        data=[campaign_out(request, c) for c in rows[: query.limit]],
        next_cursor=next_cursor(rows, query.limit),
    )
    return json_response(page)


async def get_campaign(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        campaign = await service.get_campaign(session, actor=actor, campaign_id=campaign_id)
    return json_response(campaign_out(request, campaign))


async def update_campaign(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    patch = await parse_json(request, CampaignPatch)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        campaign = await service.update_campaign(session, actor=actor, campaign_id=campaign_id, patch=patch)
    return json_response(campaign_out(request, campaign))


async def put_cover(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    db, store = database(request), media_store(request)
    # Who may change this cover is settled before the body is read or a pixel decoded.
    async with db.transaction() as session:
        actor = await api_actor(request, session)
        await covers.cover_campaign(session, actor=actor, campaign_id=campaign_id)
    form = await request.form(max_files=1, max_fields=4, max_part_size=8 * 1024)
    data, alt = await read_cover_form(form)
    prepared = await prepare_and_store(store, data)
    async with db.transaction() as session:
        actor = await api_actor(request, session)
        campaign = await covers.set_cover(
            session, actor=actor, store=store, campaign_id=campaign_id, prepared=prepared, alt=alt
        )
    return json_response(campaign_out(request, campaign))


async def delete_cover(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        campaign = await covers.remove_cover(
            session, actor=actor, store=media_store(request), campaign_id=campaign_id
        )
    return json_response(campaign_out(request, campaign))


def transition_endpoint(action: Action) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        campaign_id: uuid.UUID = request.path_params["campaign_id"]
        async with database(request).transaction() as session:
            actor = await api_actor(request, session)
            campaign = await service.transition_campaign(
                session, actor=actor, campaign_id=campaign_id, action=action
            )
        return json_response(campaign_out(request, campaign))

    endpoint.__name__ = f"{action.value}_campaign"
    return endpoint


_TRANSITION_SUMMARIES = {
    Action.SUBMIT: "Send a draft to moderation (verified nonprofits only)",
    Action.WITHDRAW: "Take a campaign back from review to draft",
    Action.PAUSE: "Pause a live campaign: no donations, no matches",
    Action.RESUME: "Resume a paused campaign",
    Action.END: "End a campaign",
    Action.ARCHIVE: "Archive a draft or ended campaign",
}


def build() -> ApiRoutes:
    api = ApiRoutes()
    tag = "campaigns"
    api.add(
        create_campaign,
        Operation(
            "POST",
            "/campaigns",
            "Create a draft campaign",
            tag,
            body=CampaignIn,
            response=CampaignOut,
            status_code=201,
            errors=(400, 401, 403, 409, 422),
        ),
    )
    api.add(
        list_campaigns,
        Operation("GET", "/campaigns", "List campaigns", tag, query=CampaignListQuery, response=CampaignList),
    )
    api.add(
        get_campaign,
        Operation("GET", "/campaigns/{campaign_id:uuid}", "Get a campaign", tag, response=CampaignOut),
    )
    api.add(
        update_campaign,
        Operation(
            "PATCH",
            "/campaigns/{campaign_id:uuid}",
            "Edit a campaign",
            tag,
            body=CampaignPatch,
            response=CampaignOut,
            errors=(400, 401, 403, 404, 409, 422),
        ),
    )
    api.add(
        put_cover,
        Operation(
            "PUT",
            "/campaigns/{campaign_id:uuid}/cover",
            "Upload a draft campaign's cover image (JPEG, PNG or WebP up to 5 MB, with alt text)",
            tag,
            body=CoverUpload,
            body_media_type="multipart/form-data",
            max_body_bytes=UPLOAD_BODY_BYTES,
            response=CampaignOut,
            errors=(400, 401, 403, 404, 409, 413, 422),
        ),
    )
    api.add(
        delete_cover,
        Operation(
            "DELETE",
            "/campaigns/{campaign_id:uuid}/cover",
            "Remove a campaign's uploaded cover",
            tag,
            response=CampaignOut,
            errors=(401, 403, 404),
        ),
    )
    for action, summary in _TRANSITION_SUMMARIES.items():
        api.add(
            transition_endpoint(action),
            Operation(
                "POST",
                f"/campaigns/{{campaign_id:uuid}}/{action.value}",
                summary,
                tag,
                response=CampaignOut,
                errors=(401, 403, 404, 409),
            ),
        )
    return api
