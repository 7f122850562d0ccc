"""The worker job that sends due webhook deliveries: claim, send outside any transaction, record.

One round claims up to MAX_ENDPOINTS endpoints with due deliveries (SKIP LOCKED, then a lease on
each, so any number of workers share the queue and an endpoint is served by one at a time),
up to PER_ENDPOINT deliveries each. All of them are sent at once, every request under the same
time cap (transport.TIMEOUT_S), so a slow or dead endpoint costs the round at most that cap and
never holds another endpoint's deliveries back behind its own queue. Each endpoint's results are
recorded in a transaction of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from campaigns.integrations import deliveries, signing, transport
from campaigns.integrations.deliveries import Batch, Outgoing
from campaigns.integrations.endpoint_models import AttemptOutcome
from campaigns.integrations.transport import SendPolicy, SendResult
from service.clock import Clock
from service.db import Database
from service.logging import get_logger
from service.settings import Settings, load_settings
from service.unit_of_work import UnitOfWork
from service.worker import Job

log = get_logger("goodloop.integrations")

USER_AGENT = "Goodloop-Webhooks/1.0"


@dataclass(frozen=True)
class Dispatcher:
    secret_key: str
    policy: SendPolicy = field(default_factory=SendPolicy)
    max_endpoints: int = deliveries.MAX_ENDPOINTS
    per_endpoint: int = deliveries.PER_ENDPOINT

    @classmethod
    def from_settings(cls, settings: Settings) -> Dispatcher:
        policy = SendPolicy(allow_loopback=settings.webhooks_allow_loopback)
        return cls(secret_key=settings.secret_key, policy=policy)

    async def run(self, database: Database) -> int:
        """One round; how many deliveries were attempted."""

        async def claim(session: UnitOfWork) -> list[Batch]:
            return await deliveries.claim_batches(
                session, max_endpoints=self.max_endpoints, per_endpoint=self.per_endpoint
            )

        batches = await database.run("claim_webhook_deliveries", claim)
        if not batches:
            return 0
        sent = await asyncio.gather(*(self._send_batch(batch, database.clock) for batch in batches))
        for batch, results in zip(batches, sent, strict=True):
            await self._record(database, batch, results)
        return sum(len(batch.deliveries) for batch in batches)

    async def _record(
        self, database: Database, batch: Batch, results: Sequence[tuple[Outgoing, SendResult]]
    ) -> None:
        async def record(session: UnitOfWork) -> None:
            await deliveries.record_batch(session, batch=batch, results=results)

        await database.run("record_webhook_deliveries", record)

    async def _send_batch(self, batch: Batch, clock: Clock) -> list[tuple[Outgoing, SendResult]]:
        try:
            keys = [
                signing.decrypt(self.secret_key, endpoint_id=batch.endpoint_id, stored=stored)
                for stored in batch.secret_ciphertexts
            ]
        except signing.SecretUnreadable:
            # Never the secret or its ciphertext in the log: the endpoint's id says enough.
            log.error("webhook signing secret unreadable", endpoint_id=str(batch.endpoint_id))
            unreadable = SendResult(
                outcome=AttemptOutcome.REFUSED,
                status_code=None,
                latency_ms=0,
                response_body="",
                error="the signing secret cannot be read (GOODLOOP_SECRET_KEY changed?): roll the secret",
            )
            return [(outgoing, unreadable) for outgoing in batch.deliveries]
        results = await asyncio.gather(
            *(self._send(batch.url, keys, outgoing, clock) for outgoing in batch.deliveries)
        )
        return list(zip(batch.deliveries, results, strict=True))

    async def _send(self, url: str, keys: Sequence[str], outgoing: Outgoing, clock: Clock) -> SendResult:
        body = outgoing.body.encode()
        timestamp = int(clock.now().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "identity",
            "Goodloop-Event-Id": outgoing.event_id,
            "Goodloop-Event-Type": outgoing.event_type,
            "Goodloop-Delivery-Id": str(outgoing.delivery_id),
            "Goodloop-Signature": signing.signature_header(keys, timestamp=timestamp, body=body),
        }
        result = await transport.send(url, body=body, headers=headers, policy=self.policy)
        log.info(
            "webhook attempt",
            delivery_id=str(outgoing.delivery_id),
            event_id=outgoing.event_id,
            outcome=result.outcome.value,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
        )
        return result


def job(settings: Settings | None = None) -> Job:
    """The worker job; without settings (`goodloop worker`), they are read from the environment."""
    holder: list[Dispatcher] = [Dispatcher.from_settings(settings)] if settings is not None else []

    async def deliver_webhooks(database: Database) -> int:
        if not holder:
            holder.append(Dispatcher.from_settings(load_settings()))
        return await holder[0].run(database)

    return Job("deliver_webhooks", deliver_webhooks, timedelta(seconds=1))
