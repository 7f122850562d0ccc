"""The inbox processor: runs each stored event's handler exactly once.

A batch of due events is claimed (FOR UPDATE SKIP LOCKED on PostgreSQL, so any number of
workers can share the inbox) and each event runs in its own savepoint. The handler's effects
and the "processed" mark commit in the same transaction, so a crash anywhere leaves either
both or neither. A failed event's savepoint is rolled back and the failure recorded instead:
NotYetKnown (out-of-order delivery) and any other error are retried with exponential backoff
and become dead letters after inbox.MAX_ATTEMPTS; the worker never crashes on one event.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service import ledger
from service.db import Database, utcnow
from service.logging import get_logger
from service.worker import Job
from webhooks import inbox
from webhooks.errors import NotYetKnown
from webhooks.events import StripeEvent
from webhooks.handlers.common import Handler
from webhooks.handlers.registry import HANDLERS
from webhooks.metrics import WEBHOOK_BACKLOG, WEBHOOK_DEAD_LETTERS, WEBHOOK_FAILURES, WEBHOOK_LAG
from webhooks.models import WebhookEvent

log = get_logger("goodloop.webhooks")

BATCH_SIZE = 100


async def process_due_events(
    database: Database,
    *,
    now: datetime | None = None,
    limit: int = BATCH_SIZE,
    handlers: Mapping[str, Handler] = HANDLERS,
) -> int:
    """Process one batch of due events in one transaction; returns how many were attempted."""
    async with database.transaction() as session:
        at = now or utcnow()
        events = await inbox.claim_due(session, now=at, limit=limit)
        for event in events:
            await _process_one(session, event, now=at, handlers=handlers)
        backlog, dead = await inbox.counts(session) if events else (0, None)
    if events:
        WEBHOOK_BACKLOG.set(backlog)
        WEBHOOK_DEAD_LETTERS.set(dead or 0)
    return len(events)


async def _process_one(
    session: AsyncSession, event: WebhookEvent, *, now: datetime, handlers: Mapping[str, Handler]
) -> None:
    row_id, attempts, event_type, received_at = event.id, event.attempts, event.type, event.received_at
    handler = handlers.get(event_type)
    try:
        async with session.begin_nested():
            if handler is not None:
                await handler(session, StripeEvent.from_payload(event.payload))
    except NotYetKnown as e:
        ledger.forget_cached_accounts(session)
        await _failed(
            session,
            row_id=row_id,
            attempts=attempts,
            event_type=event_type,
            kind="not_yet_known",
            error=str(e),
            now=now,
        )
        return
    except Exception as e:  # noqa: BLE001 - one bad event must not stop the others; it is recorded
        ledger.forget_cached_accounts(session)
        await _failed(
            session,
            row_id=row_id,
            attempts=attempts,
            event_type=event_type,
            kind="error",
            error=repr(e),
            now=now,
        )
        return
    await inbox.mark_processed(session, event_id=row_id, now=now)
    WEBHOOK_LAG.observe(max((utcnow() - received_at).total_seconds(), 0.0))


async def _failed(
    session: AsyncSession,
    *,
    row_id: uuid.UUID,
    attempts: int,
    event_type: str,
    kind: str,
    error: str,
    now: datetime,
) -> None:
    dead = await inbox.record_failure(
        session, event_id=row_id, attempts_before=attempts, error=error, now=now
    )
    WEBHOOK_FAILURES.labels(event_type, "dead" if dead else kind).inc()
    log.warning("webhook event failed", event_type=event_type, kind=kind, dead=dead, error=error[:300])


async def drain(database: Database) -> int:
    """The worker job: keep taking batches while there are due events."""
    total = 0
    while (done := await process_due_events(database)) > 0:
        total += done
        if done < BATCH_SIZE:
            break
    return total


JOB = Job("process_webhook_events", drain, timedelta(seconds=1))
