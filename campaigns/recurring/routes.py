"""Nonprofit API: its recurring gifts and, per campaign, active donors, MRR and churn.

Tenant-isolated: the API key's nonprofit is the only one whose gifts are read.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response

from campaigns.nonprofits.web import api_actor
from campaigns.recurring import figures, repository, service
from campaigns.recurring.models import RecurringStatus
from campaigns.recurring.schemas import RecurringFiguresList, RecurringGiftList, gift_out
from service.web.api import ApiRoutes, Operation, json_response, parse_query
from service.web.context import database

LIMIT = 500


class RecurringQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: uuid.UUID | None = None
    status: RecurringStatus | None = None


class FiguresQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: uuid.UUID | None = None


async def list_recurring_gifts(request: Request) -> Response:
    query = parse_query(request, RecurringQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        gifts = await repository.gifts_of_nonprofit(
            session, actor.nonprofit_id, campaign_id=query.campaign_id, limit=LIMIT
        )
        chosen = [g for g in gifts if query.status is None or g.status is query.status]
        data = [gift_out(g, installments_paid=await service.paid_installments(session, g.id)) for g in chosen]
    return json_response(RecurringGiftList(data=data))


async def recurring_figures(request: Request) -> Response:
    query = parse_query(request, FiguresQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        gifts = await repository.gifts_of_nonprofit(
            session, actor.nonprofit_id, campaign_id=query.campaign_id, limit=100_000
        )
        now = session.now()
    return json_response(RecurringFiguresList(data=figures.by_campaign(gifts, now=now)))


def build() -> ApiRoutes:
    api = ApiRoutes()
    tag = "recurring"
    api.add(
        list_recurring_gifts,
        Operation(
            "GET",
            "/recurring-gifts",
            "The nonprofit's recurring gifts (monthly and yearly), newest first, at most 500",
            tag,
            query=RecurringQuery,
            response=RecurringGiftList,
            errors=(400, 401, 403, 422),
        ),
    )
    api.add(
        recurring_figures,
        Operation(
            "GET",
            "/recurring-gifts/figures",
            "Per campaign: active recurring donors, monthly recurring revenue (yearly gifts count 1/12) and"
            " the last 30 days' churn",
            tag,
            query=FiguresQuery,
            response=RecurringFiguresList,
            errors=(400, 401, 403, 422),
        ),
    )
    return api
