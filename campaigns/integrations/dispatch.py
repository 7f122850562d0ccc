"""The worker job that sends due webhook deliveries: claim, send outside any transaction, record.

A claim takes up to MAX_ENDPOINTS endpoints with due deliveries (SKIP LOCKED, then a lease on
each, so any number of workers share the queue and an endpoint is served by one at a time),
up to PER_ENDPOINT deliveries each. Each endpoint's batch is sent at once, every request under
the same time cap (transport.TIMEOUT_S), and its results are recorded in a transaction of its
own, so a slow or dead endpoint never holds another endpoint's deliveries back.

The worker job (`start`) does not wait for the answers: it claims, hands each endpoint's batch
to a task of its own and returns, so a receiver taking its full ten seconds delays neither the
worker's other jobs (Stripe events, mail) nor the next claim of other endpoints. At most
MAX_ENDPOINTS batches are in flight per process. A task still running when the process stops
is cancelled; its lease runs out and another worker sends those deliveries again (delivery is
at least once). `run` does the same and waits for every batch (tests, one-off runs).
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


@dataclass
class Dispatcher:
    secret_key: str
    policy: SendPolicy = field(default_factory=SendPolicy)
    max_endpoints: int = deliveries.MAX_ENDPOINTS
    per_endpoint: int = deliveries.PER_ENDPOINT
    _in_flight: set[asyncio.Task[None]] = field(default_factory=set, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Dispatcher:
        policy = SendPolicy(allow_loopback=settings.webhooks_allow_loopback)
        return cls(secret_key=settings.secret_key, policy=policy)

    async def run(self, database: Database) -> int:
        """One round, waiting for every answer; how many deliveries were attempted."""
        batches = await self._claim(database, self.max_endpoints)
        await asyncio.gather(*(self._deliver(database, batch) for batch in batches))
        return sum(len(batch.deliveries) for batch in batches)

    async def start(self, database: Database) -> int:
        """Claim what is due and send it in the background; how many deliveries were started."""
        room = self.max_endpoints - len(self._in_flight)
        if room <= 0:
            return 0
        batches = await self._claim(database, room)
        for batch in batches:
            task = asyncio.create_task(self._deliver(database, batch), name=f"webhooks-{batch.endpoint_id}")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return sum(len(batch.deliveries) for batch in batches)

    async def drain(self) -> None:
        """Wait for every batch `start` sent off."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight))

    async def _claim(self, database: Database, max_endpoints: int) -> list[Batch]:
        async def claim(session: UnitOfWork) -> list[Batch]:
            return await deliveries.claim_batches(
                session, max_endpoints=max_endpoints, per_endpoint=self.per_endpoint
            )

        return await database.run("claim_webhook_deliveries", claim)

    async def _deliver(self, database: Database, batch: Batch) -> None:
        try:
            results = await self._send_batch(batch, database.clock)
            await self._record(database, batch, results)
        except Exception:
            # A background task's failure would otherwise go unseen; the lease ends and the
            # deliveries are claimed again.
            log.exception("webhook batch failed", endpoint_id=str(batch.endpoint_id))

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
        # One delivery's unexpected exception must not lose the others' results.
        results = await asyncio.gather(
            *(self._send(batch.url, keys, outgoing, clock) for outgoing in batch.deliveries),
            return_exceptions=True,
        )
        return [
            (outgoing, _unexpected(outgoing, result) if isinstance(result, BaseException) else result)
            for outgoing, result in zip(batch.deliveries, results, strict=True)
        ]

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


def _unexpected(outgoing: Outgoing, error: BaseException) -> SendResult:
    """An exception from one send (send() should return, never raise): a connection error."""
    if not isinstance(error, Exception):
        raise error  # cancellation and the like are not a delivery's outcome
    log.error(
        "webhook attempt raised",
        delivery_id=str(outgoing.delivery_id),
        error=f"{type(error).__name__}: {error}"[:300],
    )
    return SendResult(
        outcome=AttemptOutcome.CONNECTION_ERROR,
        status_code=None,
        latency_ms=0,
        response_body="",
        error=f"{type(error).__name__}: {error}"[:300],
    )


def job(settings: Settings | None = None) -> Job:
    """The worker job; without settings (`goodloop worker`), they are read from the environment."""
    holder: list[Dispatcher] = [Dispatcher.from_settings(settings)] if settings is not None else []

    async def deliver_webhooks(database: Database) -> int:
        if not holder:
            holder.append(Dispatcher.from_settings(load_settings()))
        return await holder[0].start(database)

    return Job("deliver_webhooks", deliver_webhooks, timedelta(seconds=1))
