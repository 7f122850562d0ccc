"""One delivery per fact per subscribed endpoint, written in the fact's transaction, however
often Stripe delivers the events behind it; only the fact's own nonprofit's endpoints hear it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

import httpx
import sqlalchemy as sa

from campaigns.integrations import events
from campaigns.integrations.endpoint_models import WebhookDelivery
from campaigns.integrations.models import IntegrationEvent
from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.integrations.conftest import add_endpoint, deliveries_of, dispatcher, emit
from tests.campaigns.integrations.receiver import Receiver
from tests.webhooks.builders import LiveCampaign, deliver, insert_donation, process_all
from tests.webhooks.stripe_events import event, new_id


async def _endpoint(
    client: httpx.AsyncClient, org: builders.Org, events: list[str], *, enabled: bool = True
) -> str:
    response = await client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://crm.example.org/goodloop", "enabled_events": events, "enabled": enabled},
        headers=org.headers,
    )
    assert response.status_code == 201, response.text
    endpoint_id: str = response.json()["id"]
    return endpoint_id


async def _per_endpoint(database: Database) -> Counter[tuple[str, str]]:
    async with database.transaction() as session:
        rows = (
            await session.execute(sa.select(WebhookDelivery.endpoint_id, WebhookDelivery.event_type))
        ).all()
    return Counter((str(endpoint_id), event_type) for endpoint_id, event_type in rows)


class TestFanOut:
    async def test_replayed_stripe_events_make_one_delivery_per_fact_per_subscribed_endpoint(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)
        await builders.verify(client, admin, org)
        live = await builders.live_campaign(client, org, admin)
        campaign = LiveCampaign(
            id=uuid.UUID(live["id"]), nonprofit_id=uuid.UUID(org.id), currency=live["currency"]
        )
        everything = await _endpoint(client, org, ["*"])
        confirmed_only = await _endpoint(client, org, ["donation.confirmed"])
        refunds_only = await _endpoint(client, org, ["donation.refunded"])
        switched_off = await _endpoint(client, org, ["*"], enabled=False)
        stranger = await builders.sign_up(client)
        strangers = await _endpoint(client, stranger, ["*"])

        payment = await insert_donation(database, campaign, amount_minor=4000)
        paid = [
            event("checkout.session.completed", payment.checkout_session()),
            event("charge.succeeded", payment.charge()),
        ]
        for evt in paid + paid:
            assert (await deliver(client, evt, settings.webhook_secret)).status_code == 200
        await process_all(database)
        for evt in paid:
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database)

        assert await _per_endpoint(database) == Counter(
            {(everything, "donation.confirmed"): 1, (confirmed_only, "donation.confirmed"): 1}
        )

        refund = payment.refund(refund_id=new_id("re"), amount_minor=1000)
        refunded = [
            event("refund.created", refund),
            event("charge.refunded", payment.charge(amount_refunded=1000)),
        ]
        for evt in refunded + refunded:
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database)

        counts = await _per_endpoint(database)
        assert counts == Counter(
            {
                (everything, "donation.confirmed"): 1,
                (confirmed_only, "donation.confirmed"): 1,
                (everything, "donation.refunded"): 1,
                (refunds_only, "donation.refunded"): 1,
            }
        )
        assert not any(endpoint in (switched_off, strangers) for endpoint, _ in counts)
        async with database.transaction() as session:
            events = {e.id: e for e in await session.scalars(sa.select(IntegrationEvent))}
            deliveries = list(await session.scalars(sa.select(WebhookDelivery)))
        for delivery in deliveries:
            # The body is the stored envelope, byte for byte what every attempt signs.
            assert json.loads(delivery.body) == events[delivery.event_id].envelope
            assert delivery.nonprofit_id == uuid.UUID(org.id)
            assert json.loads(delivery.body)["data"]["object"]["nonprofit_id"] == org.id


class TestOneDeliveryPerEventPerEndpoint:
    async def test_a_fact_heard_twice_still_makes_one_delivery(
        self, wh_client: httpx.AsyncClient, wh_database: Database, receiver: Receiver
    ) -> None:
        org = await builders.sign_up(wh_client)
        endpoint = await add_endpoint(wh_client, org, receiver.url + "/hooks")
        key = f"donation:{uuid.uuid4()}:confirmed"

        await emit(wh_database, org, key=key)
        await emit(wh_database, org, key=key)

        assert [d.event_id for d in await deliveries_of(wh_database, endpoint["id"])] == [
            events.event_id(key)
        ]

    async def test_workers_sending_at_once_send_each_delivery_once(
        self, wh_client: httpx.AsyncClient, wh_database: Database, wh_settings: Settings, receiver: Receiver
    ) -> None:
        orgs = [await builders.sign_up(wh_client) for _ in range(3)]
        for org in orgs:
            await add_endpoint(wh_client, org, receiver.url + f"/{org.id}")
            for _ in range(3):
                await emit(wh_database, org)
        workers = [dispatcher(wh_settings) for _ in range(3)]

        for _ in range(4):
            await asyncio.gather(*(w.run(wh_database) for w in workers))

        ids = [r.headers["goodloop-delivery-id"] for r in receiver.requests]
        assert len(ids) == 9 == len(set(ids))
