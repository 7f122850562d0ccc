"""Forged and edited Stripe events for the payment binding tests, signed as Stripe signs them."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from prometheus_client import REGISTRY

from campaigns.donations.mismatches import MismatchReason, PaymentMismatch
from service.db import Database
from tests.campaigns.matching.helpers import World
from tests.webhooks.builders import deliver
from tests.webhooks.stripe_events import Payment, new_id
from webhooks.models import WebhookEvent

JSON = dict[str, Any]
CONNECT = "/webhooks/stripe/connect"
FORGER = "acct_1Forger0000000"


def counted(reason: MismatchReason) -> float:
    return REGISTRY.get_sample_value("goodloop_payment_mismatches_total", {"reason": reason.value}) or 0.0


@dataclass(frozen=True)
class Delivery:
    evt: JSON
    connect: bool = False


async def send(world: World, delivery: Delivery) -> None:
    secret = world.settings.connect_webhook_secret if delivery.connect else world.settings.webhook_secret
    path = CONNECT if delivery.connect else "/webhooks/stripe"
    response = await deliver(world.client, delivery.evt, secret, path=path)
    assert response.status_code == 200, response.text


async def mismatches(database: Database) -> list[PaymentMismatch]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(PaymentMismatch))).all())


async def event_row(database: Database, stripe_event_id: str) -> WebhookEvent:
    async with database.transaction() as session:
        row = await session.scalar(
            sa.select(WebhookEvent).where(WebhookEvent.stripe_event_id == stripe_event_id)
        )
    assert row is not None
    return row


def forged(victim: Payment, *, amount_minor: int, currency: str = "eur") -> Payment:
    """A payment someone else made (its own session and intent) naming the victim's donation."""
    return Payment(
        donation_id=uuid.UUID(victim.donation_id),
        session_id=new_id("cs_test"),
        amount_minor=amount_minor,
        currency=currency,
    )


def edited(evt: JSON, **changes: Any) -> JSON:
    """The same Stripe object in a new event (a replay re-signed by whoever holds a secret)."""
    copied = copy.deepcopy(evt)
    copied["id"] = new_id("evt")
    copied["data"]["object"].update(changes)
    return copied
