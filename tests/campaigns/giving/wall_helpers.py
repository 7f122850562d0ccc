"""Gifts through the real checkout API (Stripe double), paid by signed Stripe webhooks."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from campaigns.donations.models import Donation
from service.db import Database
from service.settings import Settings
from tests.webhooks import stripe_events
from tests.webhooks.builders import deliver, process_all


async def checkout(client: httpx.AsyncClient, slug: str, **body: Any) -> httpx.Response:
    payload = {"amount_minor": 2500, "currency": "eur", **body}
    return await client.post(f"/api/v1/public/campaigns/{slug}/checkout", json=payload)


async def pay(client: httpx.AsyncClient, database: Database, settings: Settings, donation_id: str) -> None:
    """Stripe's charge and completed session for the donation checkout created, signed."""
    async with database.transaction() as session:
        donation = await session.scalar(sa.select(Donation).where(Donation.id == uuid.UUID(donation_id)))
        assert donation is not None and donation.stripe_checkout_session_id is not None
        payment = stripe_events.Payment.for_donation(donation)
    for evt in (
        stripe_events.event(
            "charge.succeeded", payment.charge(fingerprint=donation_id.replace("-", "")[:16])
        ),
        stripe_events.event("checkout.session.completed", payment.checkout_session()),
    ):
        response = await deliver(client, evt, settings.webhook_secret)
        assert response.status_code == 200, response.text
    await process_all(database)


async def give(
    client: httpx.AsyncClient, database: Database, settings: Settings, slug: str, **body: Any
) -> dict[str, Any]:
    response = await checkout(client, slug, **body)
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    await pay(client, database, settings, out["donation_id"])
    return out
