"""The integration event store: one `integration_events` row per announced fact.

First of `campaigns.wiring.FACT_LISTENERS`, so it runs inside the announcing transaction (a
rollback drops the event with the fact) and before the outbound delivery fan-out, which reads
the stored row. The row holds the envelope exactly as endpoints receive it:

    {"id": "evt_...", "type": "donation.confirmed", "created": 1796000000,
     "api_version": "2026-12-05", "data": {"object": {...the object as the public API shows it}}}

The event id is derived from the fact's key, and the key is UNIQUE: a fact announced twice
(it should not be, see campaigns/facts.py) still stores one event, with one id.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

import sqlalchemy as sa

from campaigns.facts import Fact
from campaigns.integrations.models import IntegrationEvent
from service.db import insert_for
from service.unit_of_work import UnitOfWork

API_VERSION: Final = "2026-12-05"
"""The shape of every envelope and object sent; a change of shape gets a new date."""


def event_id(key: str) -> str:
    """The public id of the event for the fact with this key (the same on every retry)."""
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def envelope(fact: Fact) -> dict[str, Any]:
    return {
        "id": event_id(fact.key),
        "type": fact.type,
        "created": int(fact.occurred_at.timestamp()),
        "api_version": API_VERSION,
        "data": {"object": dict(fact.data)},
    }


class EventStore:
    """The FactListener that stores each fact's event (campaigns.wiring.FACT_LISTENERS, first)."""

    async def on_fact(self, session: UnitOfWork, fact: Fact) -> None:
        stmt = (
            insert_for(session, IntegrationEvent)
            .values(
                id=event_id(fact.key),
                nonprofit_id=fact.nonprofit_id,
                type=fact.type,
                key=fact.key,
                subject_id=fact.subject_id,
                created_at=fact.occurred_at,
                envelope=envelope(fact),
            )
            .on_conflict_do_nothing()
        )
        await session.execute(stmt)


store = EventStore()


async def event_for(session: UnitOfWork, key: str) -> IntegrationEvent | None:
    """The stored event of the fact with this key (the delivery fan-out reads it right after)."""
    found: IntegrationEvent | None = await session.scalar(
        sa.select(IntegrationEvent).where(IntegrationEvent.key == key)
    )
    return found
