"""Fixtures for outbound webhooks: an app whose settings allow a loopback receiver, on a
database whose clock the test moves, and helpers to add endpoints, make events and send."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from campaigns import facts
from campaigns.integrations import deliveries, events
from campaigns.integrations.dispatch import Dispatcher
from campaigns.integrations.endpoint_models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from campaigns.integrations.transport import SendPolicy
from service.app import create_app
from service.clock import SettableClock
from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.integrations.receiver import Receiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def wh_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, webhooks_allow_loopback=True)


@pytest.fixture
def clock() -> SettableClock:
    # Starts at the real time, so receivers checking the signature's age (5 minutes) accept
    # the first deliveries; tests move it forward to reach retries and the three-day window.
    return SettableClock(datetime.now(UTC))


@pytest.fixture
async def wh_database(wh_settings: Settings, clock: SettableClock) -> AsyncIterator[Database]:
    db = Database.from_url(wh_settings.database_url, clock=clock)
    yield db
    await db.dispose()


@pytest.fixture
async def wh_app(wh_settings: Settings, wh_database: Database) -> AsyncIterator[Starlette]:
    application = create_app(wh_settings, database=wh_database)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def wh_client(wh_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=wh_app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def dispatcher(settings: Settings, **policy: Any) -> Dispatcher:
    return Dispatcher(secret_key=settings.secret_key, policy=SendPolicy(**{"allow_loopback": True, **policy}))


async def add_endpoint(
    client: httpx.AsyncClient, org: builders.Org, url: str, events_: list[str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhook-endpoints",
        json={"url": url, "enabled_events": events_ or ["*"], "description": "test receiver"},
        headers=org.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def emit(
    database: Database, org: builders.Org, *, type_: str = facts.DONATION_CONFIRMED, key: str | None = None
) -> str:
    """Store one event of `org` and fan it out, as the fact's listeners do in its transaction
    (only the event store and the fan-out: a made-up donation has no receipt to write)."""
    subject = uuid.uuid4()
    fact = facts.Fact(
        type=type_,
        key=key or f"donation:{subject}:confirmed",
        nonprofit_id=uuid.UUID(org.id),
        subject_id=subject,
        occurred_at=database.clock.now(),
        data={"id": str(subject), "object": "donation", "amount_minor": 2500, "currency": "eur"},
    )
    async with database.transaction() as session:
        await events.store.on_fact(session, fact)
        await deliveries.fan_out.on_fact(session, fact)
    return events.event_id(fact.key)


async def deliveries_of(database: Database, endpoint_id: str) -> list[WebhookDelivery]:
    async with database.transaction() as session:
        rows = await session.scalars(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == uuid.UUID(endpoint_id))
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        )
        return list(rows)


async def attempts_of(database: Database, delivery_id: uuid.UUID) -> list[WebhookDeliveryAttempt]:
    async with database.transaction() as session:
        rows = await session.scalars(
            sa.select(WebhookDeliveryAttempt)
            .where(WebhookDeliveryAttempt.delivery_id == delivery_id)
            .order_by(WebhookDeliveryAttempt.attempted_at, WebhookDeliveryAttempt.id)
        )
        return list(rows)


async def endpoint_row(database: Database, endpoint_id: str) -> WebhookEndpoint:
    async with database.transaction() as session:
        row = await session.get(WebhookEndpoint, uuid.UUID(endpoint_id))
        assert row is not None
        return row
