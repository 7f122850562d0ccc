"""GET /api/v1/campaigns/{id}/stats: raised, matched by status, donors and the engagement funnel."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from campaigns.engagement import service
from campaigns.engagement.schemas import CampaignStats
from campaigns.nonprofits.web import api_actor
from service.web.api import ApiRoutes, Operation, json_response
from service.web.context import database


async def campaign_stats(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        stats = await service.campaign_stats(session, actor=actor, campaign_id=campaign_id)
    return json_response(stats)


def build() -> ApiRoutes:
    api = ApiRoutes()
    api.add(
        campaign_stats,
        Operation(
            "GET",
            "/campaigns/{campaign_id:uuid}/stats",
            "Money raised and matched (by match status), donors and the engagement funnel of a campaign",
            "campaigns",
            response=CampaignStats,
            errors=(401, 403, 404),
        ),
    )
    return api
