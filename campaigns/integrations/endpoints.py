"""Use cases for a nonprofit's webhook endpoints: add, list, change, delete, roll the secret.

Every use case takes the acting member or API key (campaigns.nonprofits.actors.Actor) and finds
endpoints only among the actor's own nonprofit's (another's is "not found", never "forbidden").
Changes need the owner role (an API key acts as an owner) and are written to the audit log,
without the secret. The signing secret is returned once, by `create_endpoint` and `roll_secret`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.integrations import addresses, signing
from campaigns.integrations.endpoint_models import (
    DisabledReason,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
)
from campaigns.integrations.errors import EndpointNotFound, TooManyEndpoints
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole, Nonprofit
from service import audit
from service.db import locked_rows
from service.errors import ValidationFailed
from service.unit_of_work import UnitOfWork

MAX_ENDPOINTS = 16
"""Per nonprofit: enough for a CRM, a mailing tool and a few automations."""
ROLL_GRACE = timedelta(hours=24)
"""How long a rolled secret's old value still signs deliveries (beside the new one)."""


@dataclass(frozen=True)
class EndpointSettings:
    """What the operator decides: the key secrets are encrypted with, whether loopback is allowed."""

    secret_key: str
    allow_loopback: bool = False


@dataclass(frozen=True)
class WithSecret:
    endpoint: WebhookEndpoint
    secret: str
    """Plaintext, for the caller to show once; never stored or logged as such."""


def _check_url(url: str, config: EndpointSettings) -> str:
    try:
        addresses.check_url(url, allow_loopback=config.allow_loopback)
    except addresses.UrlRefused as e:
        raise ValidationFailed({"url": str(e)}) from e
    return url


def _shown(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log keeps of an endpoint: never the secret."""
    return {
        "url": endpoint.url,
        "enabled_events": list(endpoint.enabled_events),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
    }


async def list_endpoints(session: AsyncSession, *, actor: Actor) -> Sequence[WebhookEndpoint]:
    rows = await session.scalars(
        sa.select(WebhookEndpoint)
        .where(WebhookEndpoint.nonprofit_id == actor.nonprofit_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return rows.all()


async def get_endpoint(session: AsyncSession, *, actor: Actor, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await session.scalar(
        sa.select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.nonprofit_id == actor.nonprofit_id
        )
    )
    if endpoint is None:
        raise EndpointNotFound("no such webhook endpoint")
    return endpoint


async def lock_endpoint(session: AsyncSession, *, actor: Actor, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    rows = await locked_rows(
        session,
        sa.select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.nonprofit_id == actor.nonprofit_id
        ),
    )
    if not rows:
        raise EndpointNotFound("no such webhook endpoint")
    endpoint: WebhookEndpoint = rows[0]
    return endpoint


async def create_endpoint(
    session: UnitOfWork,
    *,
    actor: Actor,
    config: EndpointSettings,
    url: str,
    enabled_events: Sequence[str],
    description: str = "",
    enabled: bool = True,
) -> WithSecret:
    actor.require(MemberRole.OWNER)
    _check_url(url, config)
    # The organisation's row (lock order 3) serialises its creates, so two at once cannot both
    # count 15 and make 17.
    await locked_rows(session, sa.select(Nonprofit).where(Nonprofit.id == actor.nonprofit_id))
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.nonprofit_id == actor.nonprofit_id)
    )
    if (count or 0) >= MAX_ENDPOINTS:
        raise TooManyEndpoints(f"an organisation may have at most {MAX_ENDPOINTS} webhook endpoints")
    endpoint_id = uuid.uuid4()
    secret = signing.new_secret()
    now = session.now()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        nonprofit_id=actor.nonprofit_id,
        url=url,
        description=description,
        enabled_events=list(enabled_events),
        enabled=enabled,
        disabled_reason=None if enabled else DisabledReason.MEMBER,
        disabled_at=None if enabled else now,
        secret_ciphertext=signing.encrypt(config.secret_key, endpoint_id=endpoint_id, secret=secret),
    )
    session.add(endpoint)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="webhook_endpoint.created",
        subject_type="webhook_endpoint",
        subject_id=str(endpoint_id),
        nonprofit_id=actor.nonprofit_id,
        after=_shown(endpoint),
    )
    return WithSecret(endpoint=endpoint, secret=secret)


async def update_endpoint(
    session: UnitOfWork,
    *,
    actor: Actor,
    config: EndpointSettings,
    endpoint_id: uuid.UUID,
    changes: dict[str, Any],
) -> WebhookEndpoint:
    """Apply `changes` (any of url, enabled_events, description, enabled)."""
    actor.require(MemberRole.OWNER)
    endpoint = await lock_endpoint(session, actor=actor, endpoint_id=endpoint_id)
    before = _shown(endpoint)
    if "url" in changes:
        endpoint.url = _check_url(changes["url"], config)
    if "enabled_events" in changes:
        endpoint.enabled_events = list(changes["enabled_events"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "enabled" in changes and changes["enabled"] != endpoint.enabled:
        _switch(endpoint, on=bool(changes["enabled"]), session=session)
    after = _shown(endpoint)
    if after != before:
        await audit.record(
            session,
            actor=actor,
            action="webhook_endpoint.updated",
            subject_type="webhook_endpoint",
            subject_id=str(endpoint.id),
            nonprofit_id=actor.nonprofit_id,
            before=before,
            after=after,
        )
    await session.flush()
    return endpoint


def _switch(endpoint: WebhookEndpoint, *, on: bool, session: UnitOfWork) -> None:
    endpoint.enabled = on
    if on:
        # A fresh start: its three-day failure window begins again at its next failure.
        endpoint.disabled_reason = None
        endpoint.disabled_at = None
        endpoint.failing_since = None
    else:
        endpoint.disabled_reason = DisabledReason.MEMBER
        endpoint.disabled_at = session.now()


async def delete_endpoint(session: UnitOfWork, *, actor: Actor, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """Delete it and its deliveries and their log (a send in flight finds nothing to record)."""
    actor.require(MemberRole.OWNER)
    endpoint = await lock_endpoint(session, actor=actor, endpoint_id=endpoint_id)
    shown = _shown(endpoint)
    # Children first, in plain statements: the log may be long, and no row is loaded for it.
    deliveries = sa.select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    await session.execute(
        sa.delete(WebhookDeliveryAttempt).where(WebhookDeliveryAttempt.delivery_id.in_(deliveries))
    )
    await session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    await session.delete(endpoint)
    await audit.record(
        session,
        actor=actor,
        action="webhook_endpoint.deleted",
        subject_type="webhook_endpoint",
        subject_id=str(endpoint_id),
        nonprofit_id=actor.nonprofit_id,
        before=shown,
    )
    return endpoint


async def roll_secret(
    session: UnitOfWork, *, actor: Actor, config: EndpointSettings, endpoint_id: uuid.UUID
) -> WithSecret:
    """A new secret; the current one keeps signing (as a second v1) for ROLL_GRACE."""
    actor.require(MemberRole.OWNER)
    endpoint = await lock_endpoint(session, actor=actor, endpoint_id=endpoint_id)
    now = session.now()
    secret = signing.new_secret()
    # Only the current secret carries over: a secret rolled twice within the grace period
    # drops the oldest, as a receiver can only be expected to hold the one before.
    endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
    endpoint.previous_secret_expires_at = now + ROLL_GRACE
    endpoint.secret_ciphertext = signing.encrypt(config.secret_key, endpoint_id=endpoint.id, secret=secret)
    endpoint.secret_rolled_at = now
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="webhook_endpoint.secret_rolled",
        subject_type="webhook_endpoint",
        subject_id=str(endpoint.id),
        nonprofit_id=actor.nonprofit_id,
        after={"previous_secret_expires_at": endpoint.previous_secret_expires_at.isoformat()},
    )
    return WithSecret(endpoint=endpoint, secret=secret)
