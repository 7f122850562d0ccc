"""Admin JSON API for the inbox: list events (dead letters first of all) and replay one."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from service.auth.models import AdminRole
from service.errors import NotFound
from service.web.api import ApiRoutes, Operation, json_response, parse_query
from service.web.context import database
from service.web.guards import api_admin
from webhooks import inbox
from webhooks.models import WebhookEvent


class EventQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dead: bool | None = None
    before: datetime | None = None
    limit: int = Field(default=50, ge=1, le=500)


class WebhookEventOut(BaseModel):
    id: uuid.UUID
    stripe_event_id: str
    type: str
    account: str | None
    livemode: bool
    stripe_created_at: datetime
    received_at: datetime
    processed_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    dead: bool


class WebhookEventList(BaseModel):
    data: list[WebhookEventOut]


def event_out(event: WebhookEvent) -> WebhookEventOut:
    return WebhookEventOut.model_validate(event, from_attributes=True)


async def list_webhook_events(request: Request) -> Response:
    query = parse_query(request, EventQuery)
    async with database(request).transaction() as session:
        await api_admin(request, session, AdminRole.FINANCE, AdminRole.SUPERADMIN)
        rows = await inbox.list_events(session, dead=query.dead, limit=query.limit, before=query.before)
    return json_response(WebhookEventList(data=[event_out(e) for e in rows]))


async def replay_webhook_event(request: Request) -> Response:
    event_id: uuid.UUID = request.path_params["event_id"]
    async with database(request).transaction() as session:
        await api_admin(request, session, AdminRole.FINANCE, AdminRole.SUPERADMIN)
        event = await inbox.get_event(session, key=str(event_id))
        if event is None:
            raise NotFound("no such webhook event")
        replayed = await inbox.replay(session, event=event, now=session.now())
    return json_response(event_out(replayed))


def build() -> ApiRoutes:
    api = ApiRoutes()
    api.add(
        list_webhook_events,
        Operation(
            "GET",
            "/admin/webhook-events",
            "Stored Stripe events; dead=true lists dead letters",
            "admin",
            query=EventQuery,
            response=WebhookEventList,
            errors=(400, 401, 403, 422),
        ),
    )
    api.add(
        replay_webhook_event,
        Operation(
            "POST",
            "/admin/webhook-events/{event_id:uuid}/replay",
            "Queue a stored Stripe event to be processed again",
            "admin",
            response=WebhookEventOut,
            errors=(400, 401, 403, 404),
        ),
    )
    return api
