"""Webhook signing and delivery, exactly as Stripe signs them, with a controllable policy.

Signature: `Stripe-Signature: t=<unix ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">` keyed with
the endpoint secret, which is what `stripe.Webhook.construct_event` verifies. Platform events
go to `/webhooks/stripe`, events that carry `account` (Connect) to `/webhooks/stripe/connect`.

Delivery runs in background tasks so an API call or a checkout click never waits for our own
webhook route. A batch (the events one action emitted) is delivered in order, one event at a
time, and batches one after another, so `reverse` really reverses what the receiver sees.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

PLATFORM_PATH = "/webhooks/stripe"
CONNECT_PATH = "/webhooks/stripe/connect"
RETRY_DELAYS_S = (0.05, 0.25, 1.0)
TIMEOUT_S = 10.0


@dataclass
class DeliveryPolicy:
    """How the next batches are delivered; tests use it to provoke duplicates and reordering."""

    duplicate: int = 1
    """Copies of each event to send (Stripe delivers at least once)."""
    reverse: bool = False
    """Send each batch newest first (Stripe does not guarantee order)."""
    delay_s: float = 0.0
    """Wait this long before sending a batch."""
    drop: bool = False
    """Record events but deliver nothing (an endpoint that was down)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DeliveryRecord:
    event_id: str
    event_type: str
    url: str
    status_code: int | None = None
    attempts: int = 0
    error: str | None = None
    dropped: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "delivered": self.delivered}


def sign_payload(payload: str, secret: str, *, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for a payload."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


@dataclass
class Deliverer:
    base_url: str
    platform_secret: str = field(repr=False)
    connect_secret: str = field(repr=False)
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    records: list[DeliveryRecord] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _sending: asyncio.Lock = field(default_factory=asyncio.Lock)

    def send(self, events: list[dict[str, Any]]) -> None:
        """Schedule a batch; returns at once. Must be called from the serving event loop."""
        if not events:
            return
        policy = DeliveryPolicy(**asdict(self.policy))
        ordered = list(reversed(events)) if policy.reverse else list(events)
        task = asyncio.create_task(self._deliver_batch(ordered, policy), name="sandbox-webhooks")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Wait until every scheduled delivery (including ones scheduled meanwhile) is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def _deliver_batch(self, events: list[dict[str, Any]], policy: DeliveryPolicy) -> None:
        if policy.delay_s > 0:
            await asyncio.sleep(policy.delay_s)
        # One batch at a time: without a policy asking for it, batches never interleave.
        async with self._sending, httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            for event in events:
                for _ in range(max(policy.duplicate, 0)):
                    await self._deliver_one(client, event, dropped=policy.drop)

    def _target(self, event: dict[str, Any]) -> tuple[str, str]:
        if event.get("account"):
            return self.base_url + CONNECT_PATH, self.connect_secret
        return self.base_url + PLATFORM_PATH, self.platform_secret

    async def _deliver_one(self, client: httpx.AsyncClient, event: dict[str, Any], *, dropped: bool) -> None:
        url, secret = self._target(event)
        record = DeliveryRecord(event_id=event["id"], event_type=event["type"], url=url, dropped=dropped)
        self.records.append(record)
        if dropped:
            return
        payload = json.dumps(event, indent=2)
        for attempt, retry_delay in enumerate((*RETRY_DELAYS_S, None), start=1):
            record.attempts = attempt
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": sign_payload(payload, secret),
            }
            try:
                response = await client.post(url, content=payload.encode(), headers=headers)
            except httpx.TransportError as e:
                record.status_code, record.error = None, f"{type(e).__name__}: {e}"
            else:
                record.status_code, record.error = response.status_code, None
                if response.status_code < 500:
                    return
            if retry_delay is None:
                return
            await asyncio.sleep(retry_delay)
