"""Deliveries of events to endpoints: fan-out, the delivery log, retries, replays, test events.

- **Fan-out** (`DeliveryFanOut`, right after the event store in campaigns.wiring.FACT_LISTENERS):
  in the fact's own transaction, one delivery row per enabled endpoint of the fact's nonprofit
  that subscribed to its type, keyed UNIQUE (endpoint, event): a fact heard twice still makes one.
- **Sending** (campaigns.integrations.dispatch) claims due deliveries per endpoint
  (`claim_batches`: SKIP LOCKED plus a lease on the endpoint, so one endpoint is served by one
  worker at a time and at most PER_ENDPOINT requests at once), sends outside any transaction
  and records each attempt (`record_batch`).
- **Retries**: a failed attempt is tried again after an exponential backoff with jitter, for
  three days from its first attempt; then the delivery is `failed`. An endpoint with no success
  for three days since its first failure is disabled and its members are emailed.
- **Order** is not guaranteed: retries and parallel sends reorder events. Receivers order by
  the envelope's `created` (and de-duplicate by its `id`: delivery is at least once).
"""

from __future__ import annotations

import json
import random
import secrets as random_tokens
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns import facts
from campaigns.integrations import events, notices
from campaigns.integrations.endpoint_models import (
    DeliveryStatus,
    DisabledReason,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
)
from campaigns.integrations.endpoints import lock_endpoint
from campaigns.integrations.errors import DeliveryNotFound, EndpointDisabled
from campaigns.integrations.schemas import TEST_EVENT, WILDCARD
from campaigns.integrations.transport import SendResult
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service import audit
from service.db import for_no_key_update, insert_for, locked_rows
from service.pagination import Cursor, newest_first, next_cursor
from service.unit_of_work import UnitOfWork

RETRY_WINDOW = timedelta(days=3)
"""How long a delivery is retried, and how long an endpoint may fail before it is disabled."""
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=8)
LEASE = timedelta(minutes=2)
"""A claimed endpoint's deliveries are left alone this long (the time cap fits well inside);
if the worker dies, another picks them up after it."""
MAX_ENDPOINTS = 20
"""Endpoints one worker serves at once per round."""
PER_ENDPOINT = 4
"""Requests in flight to one endpoint at once, across all workers (the lease holds it)."""
_SYSTEM = audit.SystemActor("webhook delivery")


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Delay before try `attempts + 1`: 30 s doubling to 8 h, "equal jitter" (half fixed, half
    random), so endpoints that failed together do not all come back in the same second."""
    exponential = min(FIRST_BACKOFF * (1 << min(max(attempts - 1, 0), 20)), MAX_BACKOFF)
    jitter = (rng or random).uniform(0.0, 0.5)  # spreading load, not a secret
    return exponential * (0.5 + jitter)


def envelope_body(envelope: Mapping[str, Any]) -> str:
    """The bytes every attempt signs and sends (compact JSON)."""
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def subscribed(enabled_events: Sequence[str], event_type: str) -> bool:
    return WILDCARD in enabled_events or event_type in enabled_events


class DeliveryFanOut:
    """The FactListener that queues the fact's event for each subscribed endpoint."""

    async def on_fact(self, session: UnitOfWork, fact: facts.Fact) -> None:
        # The endpoints first: most nonprofits have none, and then the stored event need not
        # be read back. Read once per webhook batch (UnitOfWork.remembered).
        rows = await session.remembered(
            ("integrations.endpoints", fact.nonprofit_id),
            lambda: _enabled_endpoints(session, fact.nonprofit_id),
        )
        if not rows:
            return
        event = await events.event_for(session, fact.key)
        if event is None:
            return
        targets = [endpoint_id for endpoint_id, wanted in rows if subscribed(wanted, event.type)]
        if not targets:
            return
        now = session.now()
        body = envelope_body(event.envelope)
        values = [
            {
                "id": uuid.uuid4(),
                "endpoint_id": endpoint_id,
                "nonprofit_id": fact.nonprofit_id,
                "event_id": event.id,
                "event_type": event.type,
                "body": body,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for endpoint_id in targets
        ]
        await session.execute(
            insert_for(session, WebhookDelivery)
            .values(values)
            .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        )


async def _enabled_endpoints(
    session: UnitOfWork, nonprofit_id: uuid.UUID
) -> list[tuple[uuid.UUID, list[str]]]:
    """(id, enabled events) of the nonprofit's enabled endpoints."""
    rows = await session.execute(
        sa.select(WebhookEndpoint.id, WebhookEndpoint.enabled_events).where(
            WebhookEndpoint.nonprofit_id == nonprofit_id, WebhookEndpoint.enabled.is_(True)
        )
    )
    return [(endpoint_id, list(wanted)) for endpoint_id, wanted in rows]


fan_out = DeliveryFanOut()


# --- the delivery log ---------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedDelivery:
    delivery: WebhookDelivery
    attempts: Sequence[WebhookDeliveryAttempt]
    """Newest first."""


async def list_deliveries(
    session: AsyncSession,
    *,
    endpoint: WebhookEndpoint,
    limit: int,
    cursor: str | None,
    status: DeliveryStatus | None = None,
) -> tuple[list[LoggedDelivery], str | None]:
    """A page of the endpoint's deliveries, newest first, each with its attempts."""
    query = sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    before = Cursor.decode(cursor) if cursor else None
    query = newest_first(query, WebhookDelivery.created_at, WebhookDelivery.id, before).limit(limit + 1)
    rows = list((await session.scalars(query)).all())
    page = rows[:limit]
    logged = await _with_attempts(session, page)
    return logged, next_cursor(rows, limit)


async def _with_attempts(session: AsyncSession, page: Sequence[WebhookDelivery]) -> list[LoggedDelivery]:
    by_delivery: dict[uuid.UUID, list[WebhookDeliveryAttempt]] = defaultdict(list)
    if page:
        attempts = await session.scalars(
            sa.select(WebhookDeliveryAttempt)
            .where(WebhookDeliveryAttempt.delivery_id.in_([d.id for d in page]))
            .order_by(WebhookDeliveryAttempt.attempted_at.desc(), WebhookDeliveryAttempt.id)
        )
        for attempt in attempts:
            by_delivery[attempt.delivery_id].append(attempt)
    return [LoggedDelivery(delivery=d, attempts=by_delivery[d.id]) for d in page]


async def logged(session: AsyncSession, delivery: WebhookDelivery) -> LoggedDelivery:
    return (await _with_attempts(session, [delivery]))[0]


# --- replays and test events ------------------------------------------------------------------


def _send_again(delivery: WebhookDelivery, now: datetime) -> None:
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    # A replay gets a three-day window and a backoff of its own (the log keeps the history).
    delivery.first_attempt_at = None
    delivery.attempts = 0


async def _enabled_endpoint(session: UnitOfWork, *, actor: Actor, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    actor.require(MemberRole.OWNER)
    endpoint = await lock_endpoint(session, actor=actor, endpoint_id=endpoint_id)
    if not endpoint.enabled:
        raise EndpointDisabled("the endpoint is disabled; enable it first, then send again")
    return endpoint


async def _audit(
    session: UnitOfWork, actor: Actor, endpoint: WebhookEndpoint, action: str, **after: Any
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="webhook_endpoint",
        subject_id=str(endpoint.id),
        nonprofit_id=endpoint.nonprofit_id,
        after=after,
    )


async def retry_delivery(
    session: UnitOfWork, *, actor: Actor, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Send this delivery again now, whatever its status (a delivered one too: a replay)."""
    endpoint = await _enabled_endpoint(session, actor=actor, endpoint_id=endpoint_id)
    rows = await locked_rows(
        session,
        sa.select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
        ),
    )
    if not rows:
        raise DeliveryNotFound("no such delivery for this endpoint")
    delivery: WebhookDelivery = rows[0]
    _send_again(delivery, session.now())
    await _audit(session, actor, endpoint, "webhook_delivery.retried", delivery_id=str(delivery.id))
    await session.flush()
    return delivery


async def replay_event(
    session: UnitOfWork, *, actor: Actor, endpoint_id: uuid.UUID, event_id: str
) -> WebhookDelivery:
    """Send one event again (its delivery to this endpoint)."""
    endpoint = await _enabled_endpoint(session, actor=actor, endpoint_id=endpoint_id)
    rows = await locked_rows(
        session,
        sa.select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.event_id == event_id
        ),
    )
    if not rows:
        raise DeliveryNotFound("this endpoint has no delivery of that event")
    delivery: WebhookDelivery = rows[0]
    _send_again(delivery, session.now())
    await _audit(session, actor, endpoint, "webhook_delivery.retried", delivery_id=str(delivery.id))
    await session.flush()
    return delivery


async def replay_failed_since(
    session: UnitOfWork, *, actor: Actor, endpoint_id: uuid.UUID, since: datetime
) -> int:
    """Send again every failed delivery created at or after `since`; how many."""
    endpoint = await _enabled_endpoint(session, actor=actor, endpoint_id=endpoint_id)
    now = session.now()
    result = await session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.FAILED,
            WebhookDelivery.created_at >= since,
        )
        .values(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            first_attempt_at=None,
            attempts=0,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    await _audit(session, actor, endpoint, "webhook_endpoint.replayed", since=since.isoformat(), count=count)
    return count


async def send_test_event(session: UnitOfWork, *, actor: Actor, endpoint_id: uuid.UUID) -> WebhookDelivery:
    """A `webhook_endpoint.test` event for this endpoint alone, signed and sent like any other."""
    endpoint = await _enabled_endpoint(session, actor=actor, endpoint_id=endpoint_id)
    now = session.now()
    event_id = "evt_test_" + random_tokens.token_hex(12)
    envelope = {
        "id": event_id,
        "type": TEST_EVENT,
        "created": int(now.timestamp()),
        "api_version": events.API_VERSION,
        "data": {
            "object": {
                "id": str(endpoint.id),
                "object": "webhook_endpoint",
                "url": endpoint.url,
                "enabled_events": list(endpoint.enabled_events),
                "message": "A test event from Goodloop: your endpoint is reachable.",
            }
        },
    }
    delivery = WebhookDelivery(
        id=uuid.uuid4(),
        endpoint_id=endpoint.id,
        nonprofit_id=endpoint.nonprofit_id,
        event_id=event_id,
        event_type=TEST_EVENT,
        body=envelope_body(envelope),
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
    )
    session.add(delivery)
    await session.flush()
    await _audit(session, actor, endpoint, "webhook_endpoint.test_sent", event_id=event_id)
    return delivery


# --- claiming and recording, for the dispatcher ------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    delivery_id: uuid.UUID
    event_id: str
    event_type: str
    body: str


@dataclass(frozen=True)
class Batch:
    """One endpoint's claimed deliveries and what sending them needs."""

    endpoint_id: uuid.UUID
    url: str
    secret_ciphertexts: tuple[str, ...]
    """The current secret first, then the previous one while it is still valid."""
    claimed_at: datetime
    deliveries: tuple[Outgoing, ...]


async def claim_batches(
    session: UnitOfWork, *, max_endpoints: int = MAX_ENDPOINTS, per_endpoint: int = PER_ENDPOINT
) -> list[Batch]:
    now = session.now()
    due = (
        sa.select(WebhookDelivery.id)
        .where(
            WebhookDelivery.endpoint_id == WebhookEndpoint.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .exists()
    )
    query = (
        sa.select(WebhookEndpoint)
        .where(
            WebhookEndpoint.enabled.is_(True),
            sa.or_(WebhookEndpoint.lease_until.is_(None), WebhookEndpoint.lease_until <= now),
            due,
        )
        .order_by(WebhookEndpoint.lease_until.asc().nulls_first(), WebhookEndpoint.id)
        .limit(max_endpoints)
    )
    # Endpoints another worker is claiming right now are skipped, never waited for.
    claimed = (
        await session.scalars(
            for_no_key_update(query, skip_locked=True).execution_options(populate_existing=True)
        )
    ).all()
    batches = []
    for endpoint in claimed:
        batch = await _claim_deliveries(session, endpoint, now=now, limit=per_endpoint)
        if batch.deliveries:
            batches.append(batch)
    return batches


async def _claim_deliveries(
    session: UnitOfWork, endpoint: WebhookEndpoint, *, now: datetime, limit: int
) -> Batch:
    query = (
        sa.select(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    rows = (
        await session.scalars(
            for_no_key_update(query, skip_locked=True).execution_options(populate_existing=True)
        )
    ).all()
    for delivery in rows:
        # Not due again until the lease ends: a worker that dies mid-send leaves them to the next.
        delivery.next_attempt_at = now + LEASE
    if rows:
        # Only a batch holds the endpoint: rows another worker holds leave it free to claim.
        endpoint.lease_until = now + LEASE
    ciphertexts = [endpoint.secret_ciphertext]
    if (
        endpoint.previous_secret_ciphertext is not None
        and endpoint.previous_secret_expires_at is not None
        and endpoint.previous_secret_expires_at > now
    ):
        ciphertexts.append(endpoint.previous_secret_ciphertext)
    return Batch(
        endpoint_id=endpoint.id,
        url=endpoint.url,
        secret_ciphertexts=tuple(ciphertexts),
        claimed_at=now,
        deliveries=tuple(Outgoing(d.id, d.event_id, d.event_type, d.body) for d in rows),
    )


async def record_batch(
    session: UnitOfWork, *, batch: Batch, results: Sequence[tuple[Outgoing, SendResult]]
) -> None:
    """Log each attempt, schedule or settle each delivery, and judge the endpoint's health."""
    now = session.now()
    endpoints = await locked_rows(
        session, sa.select(WebhookEndpoint).where(WebhookEndpoint.id == batch.endpoint_id)
    )
    if not endpoints:
        return  # deleted while its deliveries were in flight: nothing left to record
    endpoint: WebhookEndpoint = endpoints[0]
    ids = [outgoing.delivery_id for outgoing, _ in results]
    deliveries = {
        d.id: d
        for d in await locked_rows(session, sa.select(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
    }
    succeeded = False
    for outgoing, result in results:
        delivery = deliveries.get(outgoing.delivery_id)
        if delivery is None:
            continue
        _log_attempt(session, delivery, result, at=batch.claimed_at)
        succeeded = succeeded or result.delivered
        if delivery.next_attempt_at != batch.claimed_at + LEASE:
            # Retried or replayed by a member while in flight (or claimed again after the
            # lease ran out): that request stands, this answer is only logged.
            continue
        _settle(delivery, result, now=now)
    # Not None: the claim serves the longest-waiting endpoint first (NULLS FIRST is "never
    # claimed"), so with more busy endpoints than one claim takes, none waits for ever.
    endpoint.lease_until = now
    if succeeded:
        endpoint.last_success_at = now
        endpoint.failing_since = None
    elif results:
        endpoint.failing_since = endpoint.failing_since or batch.claimed_at
        if endpoint.enabled and now - endpoint.failing_since >= RETRY_WINDOW:
            await disable_failing(session, endpoint)
    await session.flush()


def _log_attempt(session: UnitOfWork, delivery: WebhookDelivery, result: SendResult, *, at: datetime) -> None:
    session.add(
        WebhookDeliveryAttempt(
            id=uuid.uuid4(),
            delivery_id=delivery.id,
            attempted_at=at,
            outcome=result.outcome,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            response_body=_storable(result.response_body),
            error=_storable(result.error) if result.error is not None else None,
        )
    )


def _storable(text: str) -> str:
    # PostgreSQL's TEXT refuses NUL; a receiver's answer may contain it, and a row that cannot
    # be written would leave the delivery claimed and resent for ever, never logged.
    return text.replace("\x00", "\ufffd")


def _settle(delivery: WebhookDelivery, result: SendResult, *, now: datetime) -> None:
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or now
    if result.delivered:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif now - delivery.first_attempt_at >= RETRY_WINDOW:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now + backoff(delivery.attempts)


async def disable_failing(session: UnitOfWork, endpoint: WebhookEndpoint) -> None:
    """Three days without a success: switch it off, stop its queue, tell the members."""
    await session.flush()
    now = session.now()
    endpoint.enabled = False
    endpoint.disabled_reason = DisabledReason.FAILING
    endpoint.disabled_at = now
    await session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.FAILED, next_attempt_at=None, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    await audit.record(
        session,
        actor=_SYSTEM,
        action="webhook_endpoint.disabled",
        subject_type="webhook_endpoint",
        subject_id=str(endpoint.id),
        nonprofit_id=endpoint.nonprofit_id,
        after={"reason": DisabledReason.FAILING.value, "failing_since": _iso(endpoint.failing_since)},
    )
    await notices.endpoint_disabled(session, endpoint=endpoint)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None
