"""Dashboard pages for outbound webhooks: endpoints, their secret, test events, the delivery log.

Every member sees the endpoints and their logs; owners add, change, delete, roll secrets, send
test events and replay (the services check the role again). Thin: form -> use case -> page.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.dashboard.auth import has_role, require_actor, signed_in
from campaigns.dashboard.language import translator
from campaigns.integrations import addresses, deliveries, endpoints
from campaigns.integrations.endpoint_models import DeliveryStatus, WebhookEndpoint
from campaigns.integrations.errors import EndpointDisabled, TooManyEndpoints
from campaigns.integrations.schemas import EVENT_CHOICES, WILDCARD, WebhookEndpointIn
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service.errors import ValidationFailed
from service.pagination import InvalidCursor
from service.unit_of_work import UnitOfWork
from service.web.api import validate
from service.web.context import database, settings
from service.web.language import ngettext_for, page_language
from service.web.messages import N_
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

LOG_PAGE = 25
EVENT_LABELS: dict[str, str] = {WILDCARD: N_("All events, also types added later")}


def _config(request: Request) -> endpoints.EndpointSettings:
    current = settings(request)
    return endpoints.EndpointSettings(
        secret_key=current.secret_key, allow_loopback=current.webhooks_allow_loopback
    )


def _endpoint_id(request: Request) -> uuid.UUID:
    endpoint_id: uuid.UUID = request.path_params["endpoint_id"]
    return endpoint_id


def _endpoint_fields(form: FormData) -> dict[str, Any]:
    values = form_values(form)
    return {
        "url": values.get("url", "").strip(),
        "description": values.get("description", "").strip(),
        "enabled_events": [v for v in form.getlist("enabled_events") if isinstance(v, str)],
    }


def _checked(fields: Mapping[str, Any], config: endpoints.EndpointSettings) -> WebhookEndpointIn:
    """The form's values, or every problem at once: the shape and whether the URL may be used."""
    errors: dict[str, str] = {}
    data: WebhookEndpointIn | None = None
    try:
        data = validate(WebhookEndpointIn, fields)
    except ValidationFailed as e:
        errors.update(e.fields)
    if "url" not in errors:
        try:
            addresses.check_url(str(fields.get("url", "")), allow_loopback=config.allow_loopback)
        except addresses.UrlRefused as e:
            errors["url"] = str(e)
    if errors or data is None:
        raise ValidationFailed(errors)
    return data


def _base_context(request: Request, actor: Actor) -> dict[str, Any]:
    _ = translator(request)
    return {
        "actor": actor,
        "is_owner": has_role(actor, MemberRole.OWNER),
        # Event types are names a receiver's code matches on: they stay as they are.
        "event_choices": [
            (value, _(EVENT_LABELS[value]) if value in EVENT_LABELS else value) for value in EVENT_CHOICES
        ],
    }


# --- the list and the add form ----------------------------------------------------------------


@signed_in
async def list_webhooks(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        return await _list_page(request, session, actor)


@signed_in
async def create_webhook(request: Request) -> Response:
    form = await read_form(request)
    fields = _endpoint_fields(form)
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        try:
            async with session.begin_nested():
                data = _checked(fields, _config(request))
                created = await endpoints.create_endpoint(
                    session,
                    actor=actor,
                    config=_config(request),
                    url=data.url,
                    enabled_events=data.enabled_events,
                    description=data.description,
                )
        except ValidationFailed as e:
            return await _list_page(request, session, actor, values=fields, errors=e.fields, status_code=422)
        except TooManyEndpoints:
            _ = translator(request)
            errors = {
                "form": _(
                    "An organisation may have at most %(count)s webhook endpoints.",
                    count=endpoints.MAX_ENDPOINTS,
                )
            }
            return await _list_page(request, session, actor, values=fields, errors=errors, status_code=409)
        return await _endpoint_page(request, session, actor, created.endpoint, secret=created.secret)


async def _list_page(
    request: Request,
    session: UnitOfWork,
    actor: Actor,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        **_base_context(request, actor),
        "endpoints": await endpoints.list_endpoints(session, actor=actor),
        "values": values or {"enabled_events": [WILDCARD]},
        "errors": errors or {},
    }
    return render(request, "dashboard/webhooks.html", context, status_code)


# --- one endpoint -----------------------------------------------------------------------------


@signed_in
async def show_webhook(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        endpoint = await endpoints.get_endpoint(session, actor=actor, endpoint_id=_endpoint_id(request))
        return await _endpoint_page(request, session, actor, endpoint)


@signed_in
async def update_webhook(request: Request) -> Response:
    form = await read_form(request)
    fields = _endpoint_fields(form)
    changes = {**fields, "enabled": form.get("enabled") == "on"}
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        endpoint = await endpoints.get_endpoint(session, actor=actor, endpoint_id=_endpoint_id(request))
        try:
            async with session.begin_nested():
                data = _checked(changes, _config(request))
                await endpoints.update_endpoint(
                    session,
                    actor=actor,
                    config=_config(request),
                    endpoint_id=endpoint.id,
                    changes=data.model_dump(),
                )
        except ValidationFailed as e:
            return await _endpoint_page(
                request, session, actor, endpoint, values=changes, errors=e.fields, status_code=422
            )
    _ = translator(request)
    flash(request, _("Saved."))
    return redirect(path_for(request, "dashboard:webhook", endpoint_id=endpoint.id))


@signed_in
async def delete_webhook(request: Request) -> Response:
    await read_form(request)
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        endpoint = await endpoints.delete_endpoint(session, actor=actor, endpoint_id=_endpoint_id(request))
    _ = translator(request)
    flash(request, _("The endpoint %(url)s is deleted, with its delivery log.", url=endpoint.url))
    return redirect(path_for(request, "dashboard:webhooks"))


@signed_in
async def roll_webhook_secret(request: Request) -> Response:
    await read_form(request)
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        rolled = await endpoints.roll_secret(
            session, actor=actor, config=_config(request), endpoint_id=_endpoint_id(request)
        )
        return await _endpoint_page(
            request, session, actor, rolled.endpoint, secret=rolled.secret, rolled=True
        )


@signed_in
async def send_webhook_test(request: Request) -> Response:
    await read_form(request)
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        try:
            async with session.begin_nested():
                await deliveries.send_test_event(session, actor=actor, endpoint_id=_endpoint_id(request))
        except EndpointDisabled as e:
            endpoint = await endpoints.get_endpoint(session, actor=actor, endpoint_id=_endpoint_id(request))
            return await _endpoint_page(
                request, session, actor, endpoint, errors={"form": e.detail}, status_code=409
            )
    _ = translator(request)
    flash(
        request,
        _("A test event is on its way: it is sent within seconds. Reload this page to see the answer."),
    )
    return redirect(path_for(request, "dashboard:webhook", endpoint_id=_endpoint_id(request)))


@signed_in
async def retry_webhook_delivery(request: Request) -> Response:
    await read_form(request)
    delivery_id: uuid.UUID = request.path_params["delivery_id"]
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        try:
            async with session.begin_nested():
                await deliveries.retry_delivery(
                    session, actor=actor, endpoint_id=_endpoint_id(request), delivery_id=delivery_id
                )
        except EndpointDisabled as e:
            endpoint = await endpoints.get_endpoint(session, actor=actor, endpoint_id=_endpoint_id(request))
            return await _endpoint_page(
                request, session, actor, endpoint, errors={"form": e.detail}, status_code=409
            )
    _ = translator(request)
    flash(request, _("The event is queued to be sent again."))
    return redirect(path_for(request, "dashboard:webhook", endpoint_id=_endpoint_id(request)))


@signed_in
async def replay_webhooks(request: Request) -> Response:
    values = form_values(await read_form(request))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        endpoint = await endpoints.get_endpoint(session, actor=actor, endpoint_id=_endpoint_id(request))
        since = _utc(values.get("since", ""))
        if since is None:
            _ = translator(request)
            errors = {"since": _("Please enter a date and time, like 2026-12-24 18:00.")}
            return await _endpoint_page(
                request, session, actor, endpoint, values=values, errors=errors, status_code=422
            )
        try:
            async with session.begin_nested():
                count = await deliveries.replay_failed_since(
                    session, actor=actor, endpoint_id=endpoint.id, since=since
                )
        except EndpointDisabled as e:
            return await _endpoint_page(
                request, session, actor, endpoint, errors={"form": e.detail}, status_code=409
            )
    _ = translator(request)
    ngettext = ngettext_for(page_language(request))
    flash(
        request,
        _("No failed deliveries since then.")
        if count == 0
        else ngettext(
            "%(num)s failed delivery is queued again.", "%(num)s failed deliveries are queued again.", count
        ),
    )
    return redirect(path_for(request, "dashboard:webhook", endpoint_id=endpoint.id))


def _utc(text: str) -> datetime | None:
    """A time typed in the page (datetime-local, read as UTC), or None if it is not one."""
    try:
        parsed = datetime.fromisoformat(text.strip())
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        # OverflowError: an offset that carries the time past year 9999 in UTC.
        return None


async def _endpoint_page(
    request: Request,
    session: UnitOfWork,
    actor: Actor,
    endpoint: WebhookEndpoint,
    *,
    secret: str | None = None,
    rolled: bool = False,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    status = (
        DeliveryStatus(request.query_params["status"])
        if request.query_params.get("status") in _STATUSES
        else None
    )
    try:
        log, cursor = await deliveries.list_deliveries(
            session,
            endpoint=endpoint,
            limit=LOG_PAGE,
            cursor=request.query_params.get("cursor"),
            status=status,
        )
    except InvalidCursor:
        log, cursor = await deliveries.list_deliveries(
            session, endpoint=endpoint, limit=LOG_PAGE, cursor=None, status=status
        )
    context = {
        **_base_context(request, actor),
        "endpoint": endpoint,
        "secret": secret,
        "rolled": rolled,
        "values": values or _values_of(endpoint),
        "errors": errors or {},
        "log": log,
        "next_cursor": cursor,
        "status_filter": status.value if status else "",
        "statuses": _STATUSES,
        # Rolls, tests and replays are POSTed to addresses without a page: the switch links here.
        "here": path_for(request, "dashboard:webhook", endpoint_id=endpoint.id),
    }
    return render(request, "dashboard/webhook.html", context, status_code)


_STATUSES: Sequence[str] = [s.value for s in DeliveryStatus]


def _values_of(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "enabled_events": list(endpoint.enabled_events),
        "enabled": endpoint.enabled,
    }


routes = [
    Route("/webhooks", list_webhooks, methods=["GET"], name="webhooks"),
    Route("/webhooks", create_webhook, methods=["POST"], name="webhooks_submit"),
    Route("/webhooks/{endpoint_id:uuid}", show_webhook, methods=["GET"], name="webhook"),
    Route("/webhooks/{endpoint_id:uuid}", update_webhook, methods=["POST"], name="webhook_submit"),
    Route("/webhooks/{endpoint_id:uuid}/delete", delete_webhook, methods=["POST"], name="webhook_delete"),
    Route(
        "/webhooks/{endpoint_id:uuid}/roll-secret", roll_webhook_secret, methods=["POST"], name="webhook_roll"
    ),
    Route("/webhooks/{endpoint_id:uuid}/test", send_webhook_test, methods=["POST"], name="webhook_test"),
    Route("/webhooks/{endpoint_id:uuid}/replay", replay_webhooks, methods=["POST"], name="webhook_replay"),
    Route(
        "/webhooks/{endpoint_id:uuid}/deliveries/{delivery_id:uuid}/retry",
        retry_webhook_delivery,
        methods=["POST"],
        name="webhook_retry",
    ),
]
