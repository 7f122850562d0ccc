"""`goodloop stripe reconcile --since T`: enqueue events Stripe has that the inbox lacks.

Webhook deliveries can be lost for longer than Stripe's three days of retries (an outage, a
wrong secret). Stripe keeps 30 days of events; listing them and storing the missing ones makes
the processor catch up. Events are fetched first and stored after, so no network call happens
inside a transaction. Only the platform's own events are listed: Connect events would need one
listing per connected account (Stripe-Account header) and are not covered yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic
import stripe

from service.db import Database
from webhooks import inbox
from webhooks.events import HANDLED_TYPES, Envelope


@dataclass(frozen=True)
class Reconciled:
    listed: int
    enqueued: list[str]


async def list_events_since(client: stripe.StripeClient, *, since: datetime) -> list[dict[str, Any]]:
    page = await client.v1.events.list_async(
        params={"created": {"gte": int(since.timestamp())}, "limit": 100, "types": sorted(HANDLED_TYPES)}
    )
    return [event.to_dict() async for event in page.auto_paging_iter()]


async def enqueue_missing(database: Database, *, events: Iterable[dict[str, Any]]) -> Reconciled:
    candidates: list[tuple[Envelope, dict[str, Any]]] = []
    listed = 0
    for payload in events:
        listed += 1
        try:
            envelope = Envelope.model_validate(payload)
        except pydantic.ValidationError:
            continue
        if envelope.type in HANDLED_TYPES:
            candidates.append((envelope, payload))
    enqueued: list[str] = []
    async with database.transaction() as session:
        known = await inbox.known_event_ids(session, ids=[envelope.id for envelope, _ in candidates])
        connection = await session.connection()
        for envelope, payload in candidates:
            if envelope.id not in known and await inbox.store_event(
                connection, envelope=envelope, payload_json=json.dumps(payload), received_at=session.now()
            ):
                enqueued.append(envelope.id)
    return Reconciled(listed=listed, enqueued=enqueued)


async def reconcile(database: Database, client: stripe.StripeClient, *, since: datetime) -> Reconciled:
    events = await list_events_since(client, since=since)
    return await enqueue_missing(database, events=events)
