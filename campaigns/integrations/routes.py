"""JSON API for outbound webhooks: /api/v1/webhook-endpoints and their deliveries."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from campaigns.integrations import deliveries, endpoints
from campaigns.integrations.deliveries import LoggedDelivery
from campaigns.integrations.endpoint_models import WebhookEndpoint
from campaigns.integrations.schemas import (
    DeliveryAttemptOut,
    DeliveryList,
    DeliveryOut,
    DeliveryQuery,
    ReplayIn,
    ReplayOut,
    WebhookEndpointCreatedOut,
    WebhookEndpointIn,
    WebhookEndpointList,
    WebhookEndpointOut,
    WebhookEndpointPatch,
    WebhookSecretOut,
)
from campaigns.nonprofits.web import api_actor
from service.web.api import ApiRoutes, Operation, json_response, parse_json, parse_query
from service.web.context import database, settings


def endpoint_config(request: Request) -> endpoints.EndpointSettings:
    current = settings(request)
    return endpoints.EndpointSettings(
        secret_key=current.secret_key, allow_loopback=current.webhooks_allow_loopback
    )


def endpoint_out(endpoint: WebhookEndpoint) -> WebhookEndpointOut:
    return WebhookEndpointOut.model_validate(endpoint, from_attributes=True)


def delivery_out(logged: LoggedDelivery) -> DeliveryOut:
    d = logged.delivery
    return DeliveryOut(
        id=d.id,
        endpoint_id=d.endpoint_id,
        event_id=d.event_id,
        event_type=d.event_type,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        delivered_at=d.delivered_at,
        created_at=d.created_at,
        log=[DeliveryAttemptOut.model_validate(a, from_attributes=True) for a in logged.attempts],
    )


def _endpoint_id(request: Request) -> uuid.UUID:
    endpoint_id: uuid.UUID = request.path_params["endpoint_id"]
    return endpoint_id


async def create_webhook_endpoint(request: Request) -> Response:
    data = await parse_json(request, WebhookEndpointIn)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        created = await endpoints.create_endpoint(
            session,
            actor=actor,
            config=endpoint_config(request),
            url=data.url,
            enabled_events=data.enabled_events,
            description=data.description,
            enabled=data.enabled,
        )
    out = WebhookEndpointCreatedOut(**endpoint_out(created.endpoint).model_dump(), secret=created.secret)
    return json_response(out, 201)


async def list_webhook_endpoints(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        rows = await endpoints.list_endpoints(session, actor=actor)
    return json_response(WebhookEndpointList(data=[endpoint_out(e) for e in rows]))


async def get_webhook_endpoint(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        endpoint = await endpoints.get_endpoint(session, actor=actor, endpoint_id=_endpoint_id(request))
    return json_response(endpoint_out(endpoint))


async def update_webhook_endpoint(request: Request) -> Response:
    data = await parse_json(request, WebhookEndpointPatch)
    changes = data.model_dump(include=data.model_fields_set)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        endpoint = await endpoints.update_endpoint(
            session,
            actor=actor,
            config=endpoint_config(request),
            endpoint_id=_endpoint_id(request),
            changes=changes,
        )
    return json_response(endpoint_out(endpoint))


async def delete_webhook_endpoint(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        endpoint = await endpoints.delete_endpoint(session, actor=actor, endpoint_id=_endpoint_id(request))
    return json_response(endpoint_out(endpoint))


async def roll_webhook_secret(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        rolled = await endpoints.roll_secret(
            session, actor=actor, config=endpoint_config(request), endpoint_id=_endpoint_id(request)
        )
    endpoint = rolled.endpoint
    out = WebhookSecretOut(
        id=endpoint.id, secret=rolled.secret, previous_secret_expires_at=endpoint.previous_secret_expires_at
    )
    return json_response(out)


async def send_webhook_test_event(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        delivery = await deliveries.send_test_event(session, actor=actor, endpoint_id=_endpoint_id(request))
        out = delivery_out(await deliveries.logged(session, delivery))
    return json_response(out, 202)


async def list_webhook_deliveries(request: Request) -> Response:
    query = parse_query(request, DeliveryQuery)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        endpoint = await endpoints.get_endpoint(session, actor=actor, endpoint_id=_endpoint_id(request))
        page, cursor = await deliveries.list_deliveries(
            session, endpoint=endpoint, limit=query.limit, cursor=query.cursor, status=query.status
        )
    return json_response(DeliveryList(data=[delivery_out(d) for d in page], next_cursor=cursor))


async def retry_webhook_delivery(request: Request) -> Response:
    delivery_id: uuid.UUID = request.path_params["delivery_id"]
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        delivery = await deliveries.retry_delivery(
            session, actor=actor, endpoint_id=_endpoint_id(request), delivery_id=delivery_id
        )
        out = delivery_out(await deliveries.logged(session, delivery))
    return json_response(out, 202)


async def replay_webhook_deliveries(request: Request) -> Response:
    data = await parse_json(request, ReplayIn)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        if data.event_id is not None:
            await deliveries.replay_event(
                session, actor=actor, endpoint_id=_endpoint_id(request), event_id=data.event_id
            )
            count = 1
        else:
            assert data.since is not None  # ReplayIn holds exactly one of the two
            count = await deliveries.replay_failed_since(
                session, actor=actor, endpoint_id=_endpoint_id(request), since=data.since
            )
    return json_response(ReplayOut(replayed=count), 202)


ENDPOINT = "/webhook-endpoints/{endpoint_id:uuid}"


def build() -> ApiRoutes:
    api = ApiRoutes()
    tag = "webhooks"
    owner_errors = (400, 401, 403, 404, 422)
    api.add(
        create_webhook_endpoint,
        Operation(
            "POST",
            "/webhook-endpoints",
            "Add a webhook endpoint (the signing secret is in this answer only)",
            tag,
            body=WebhookEndpointIn,
            response=WebhookEndpointCreatedOut,
            status_code=201,
            errors=(400, 401, 403, 409, 422),
        ),
    )
    api.add(
        list_webhook_endpoints,
        Operation(
            "GET",
            "/webhook-endpoints",
            "List webhook endpoints",
            tag,
            response=WebhookEndpointList,
            errors=(401,),
        ),
    )
    api.add(
        get_webhook_endpoint,
        Operation("GET", ENDPOINT, "A webhook endpoint", tag, response=WebhookEndpointOut, errors=(401, 404)),
    )
    api.add(
        update_webhook_endpoint,
        Operation(
            "PATCH",
            ENDPOINT,
            "Change a webhook endpoint's URL, events, description or enabled",
            tag,
            body=WebhookEndpointPatch,
            response=WebhookEndpointOut,
            errors=owner_errors,
        ),
    )
    api.add(
        delete_webhook_endpoint,
        Operation(
            "DELETE",
            ENDPOINT,
            "Delete a webhook endpoint and its delivery log",
            tag,
            response=WebhookEndpointOut,
            errors=(401, 403, 404),
        ),
    )
    api.add(
        roll_webhook_secret,
        Operation(
            "POST",
            ENDPOINT + "/roll-secret",
            "Roll the signing secret (the old one signs too for 24 hours)",
            tag,
            response=WebhookSecretOut,
            errors=(401, 403, 404),
        ),
    )
    api.add(
        send_webhook_test_event,
        Operation(
            "POST",
            ENDPOINT + "/test",
            "Send a webhook_endpoint.test event",
            tag,
            response=DeliveryOut,
            status_code=202,
            errors=(401, 403, 404, 409),
        ),
    )
    api.add(
        list_webhook_deliveries,
        Operation(
            "GET",
            ENDPOINT + "/deliveries",
            "The endpoint's delivery log, newest first",
            tag,
            query=DeliveryQuery,
            response=DeliveryList,
            errors=(400, 401, 404, 422),
        ),
    )
    api.add(
        retry_webhook_delivery,
        Operation(
            "POST",
            ENDPOINT + "/deliveries/{delivery_id:uuid}/retry",
            "Send one delivery again now",
            tag,
            response=DeliveryOut,
            status_code=202,
            errors=(401, 403, 404, 409),
        ),
    )
    api.add(
        replay_webhook_deliveries,
        Operation(
            "POST",
            ENDPOINT + "/replay",
            "Send again one event, or every failed delivery since a time",
            tag,
            body=ReplayIn,
            response=ReplayOut,
            status_code=202,
            errors=(400, 401, 403, 404, 409, 422),
        ),
    )
    return api
