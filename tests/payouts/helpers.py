"""A payouts world: the app in process, the Stripe sandbox on a loopback port with the real SDK.

The sandbox delivers nothing by itself (`drop`): tests relay the events it emitted, signed as
Stripe signs them, through the app's webhook routes, as often and in whatever order they like,
and run the processor and the payout outbox themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import sqlalchemy as sa
import stripe

from campaigns.nonprofits.models import Nonprofit
from campaigns.payouts import outbox
from campaigns.payouts.models import Payout, PayoutReversal
from service.db import Database
from service.settings import SANDBOX_API_KEY, Settings
from service.stripe_sandbox.app import create_sandbox_app
from service.stripe_sandbox.events import DeliveryPolicy
from service.stripe_sandbox.state import SandboxState
from tests.builders import Org
from tests.campaigns.matching.helpers import World, make_world_with_org
from tests.live_server import serve_asgi
from tests.webhooks import stripe_events
from tests.webhooks.builders import process_all


@dataclass
class Sandbox:
    url: str
    state: SandboxState
    client: stripe.StripeClient
    relayed: int = 0

    async def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(f"{self.url}/_control/{path}", json=body or {})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def fresh_events(self) -> list[dict[str, Any]]:
        events = self.state.events[self.relayed :]
        self.relayed = len(self.state.events)
        return list(events)

    def idempotency_keys(self) -> set[str]:
        return set(self.state.idempotency)


@contextmanager
def running_sandbox(settings: Settings) -> Iterator[Sandbox]:
    app = create_sandbox_app(
        settings,
        delivery=DeliveryPolicy(drop=True),
        webhook_base_url="http://127.0.0.1:9",
        settle_after_s=None,
    )
    with serve_asgi(app) as url:
        client = stripe.StripeClient(
            SANDBOX_API_KEY,
            base_addresses={"api": url, "connect": url, "files": url},
            http_client=stripe.HTTPXClient(),
            max_network_retries=0,
        )
        yield Sandbox(url=url, state=app.state.sandbox, client=client)


@dataclass
class PayoutWorld:
    world: World
    org: Org
    sandbox: Sandbox

    @property
    def database(self) -> Database:
        return self.world.database


async def make_payout_world(
    client: httpx.AsyncClient, database: Database, settings: Settings, sandbox: Sandbox
) -> PayoutWorld:
    world, org = await make_world_with_org(client, database, settings)
    return PayoutWorld(world, org, sandbox)


async def relay(pw: PayoutWorld, *, copies: int = 1, reverse: bool = False) -> list[dict[str, Any]]:
    """Deliver what the sandbox emitted since last time, signed, `copies` times, then process it."""
    events = pw.sandbox.fresh_events()
    ordered = list(reversed(events)) if reverse else events
    settings = pw.world.settings
    for _ in range(copies):
        for event in ordered:
            connect = event.get("account") is not None
            payload = stripe_events.encode(event)
            secret = settings.connect_webhook_secret if connect else settings.webhook_secret
            response = await pw.world.client.post(
                "/webhooks/stripe/connect" if connect else "/webhooks/stripe",
                content=payload,
                headers=stripe_events.signed_headers(payload, secret),
            )
            assert response.status_code == 200, response.text
    await process_all(pw.database)
    return events


async def connect_account(pw: PayoutWorld) -> str:
    """An Express account with transfers, onboarded; its account.updated webhook makes it ready."""
    account = await pw.sandbox.client.v1.accounts.create_async(
        {"type": "express", "country": "IE", "capabilities": {"transfers": {"requested": True}}}
    )
    async with pw.database.transaction() as session:
        await session.execute(
            sa.update(Nonprofit)
            .where(Nonprofit.id == uuid.UUID(pw.org.id))
            .values(stripe_account_id=account.id)
        )
    await pw.sandbox.control(f"accounts/{account.id}/onboard")
    await relay(pw)
    return account.id


async def run_outbox(pw: PayoutWorld, *, now: datetime) -> int:
    return await outbox.run(pw.database, pw.sandbox.client, now=now)


async def payouts(database: Database) -> list[Payout]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(Payout).order_by(Payout.created_at, Payout.id))).all())


async def reversals(database: Database) -> list[PayoutReversal]:
    async with database.transaction() as session:
        rows = await session.scalars(
            sa.select(PayoutReversal).order_by(PayoutReversal.created_at, PayoutReversal.id)
        )
        return list(rows.all())
