"""The inbox processor: runs each stored event's handler exactly once.

A batch of due events is claimed (FOR UPDATE SKIP LOCKED on PostgreSQL, so any number of
workers can share the inbox). The handlers' effects and the "processed" marks commit in the
same transaction, so a crash anywhere leaves either both or neither.

Two ways through a batch. The fast way runs every handler in one transaction with the
batch's donations locked up front in one query, its ledger transfers written in one
multi-row INSERT, campaign totals refreshed once per campaign and one UPDATE marking the
batch processed: a few statements per batch instead of a dozen per event.

If any handler fails, that transaction is rolled back whole and the batch is claimed again
and run one by one, each event in its own savepoint, so the failure is recorded against the
one event that caused it: NotYetKnown (out-of-order delivery) and any
other error are retried with exponential backoff and become dead letters after
inbox.MAX_ATTEMPTS; the worker never crashes on one event.

Both ways take their row locks in the global order of docs/architecture.md ("Lock order"):
the batch's donations, then every program the batch may touch, both up front and each in
one statement in id order; the handlers then lock matches, payouts and reversals under
those, and campaign totals come last. A deadlock or serialization failure is no fault of an
event: it aborts the whole unit, which runs again from the start (service.db.retrying) and
is never recorded against an event.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.donations.repository import lock_donations
from campaigns.matching import pool
from service import ledger
from service.db import Database, retry_reason, retrying
from service.logging import get_logger
from service.unit_of_work import UnitOfWork
from service.worker import Job
from webhooks import inbox
from webhooks.errors import NotYetKnown
from webhooks.events import StripeEvent
from webhooks.handlers.common import Handler, any_ref
from webhooks.handlers.registry import HANDLERS, handling_order, link_sessions_first
from webhooks.metrics import WEBHOOK_BACKLOG, WEBHOOK_DEAD_LETTERS, WEBHOOK_FAILURES, WEBHOOK_LAG
from webhooks.models import WebhookEvent

log = get_logger("goodloop.webhooks")

BATCH_SIZE = 200


class _OneByOne(Exception):
    """A handler failed in the fast way; the batch must be run again one event at a time."""


async def process_due_events(
    database: Database,
    *,
    now: datetime | None = None,
    limit: int = BATCH_SIZE,
    handlers: Mapping[str, Handler] = HANDLERS,
) -> int:
    """Process one batch of due events; returns how many were attempted."""
    at = now or database.clock.now()

    async def unit() -> int:
        try:
            return await _process_together(database, now=at, limit=limit, handlers=handlers)
        except _OneByOne as e:
            log.info("webhook batch retried one by one", cause=repr(e.__cause__)[:300])
            return await _process_one_by_one(database, now=at, limit=limit, handlers=handlers)

    return await retrying(unit, name="process_webhook_events")


async def _lock_batch(session: UnitOfWork, events: Sequence[StripeEvent], *, remember: bool) -> None:
    """The batch's donations, then every program its handlers may lock (docs/architecture.md)."""
    donations = await lock_donations(session, [any_ref(event.obj) for event in events], remember=remember)
    await pool.lock_programs_touching(session, donations=donations, match_ids=_match_ids(events))


def _match_ids(events: Sequence[StripeEvent]) -> list[uuid.UUID]:
    """Matches named by the events' metadata (our payout transfers carry their match's id)."""
    found = []
    for event in events:
        metadata = event.obj.get("metadata")
        raw = metadata.get("match_id") if isinstance(metadata, dict) else None
        try:
            found.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    return found


async def _process_together(
    database: Database, *, now: datetime, limit: int, handlers: Mapping[str, Handler]
) -> int:
    async with database.transaction() as session:
        rows = await inbox.claim_due(session, now=now, limit=limit)
        if not rows:
            return 0
        received = [row.received_at for row in rows]
        try:
            events = [StripeEvent.from_payload(row.payload) for row in rows]
            await _lock_batch(session, events, remember=True)
            # Fact listeners read each nonprofit's settings once per batch, not once per gift
            # (UnitOfWork.remembered); this path never rolls back to a savepoint.
            session.batch_reads = {}
            ledger.defer_postings(session)
            await link_sessions_first(session, events)
            for event in events:
                handler = handlers.get(event.type)
                if handler is not None:
                    await handler(session, event)
            # The unit's own work (queued postings, campaign totals) inside the try: a failure
            # there is a failure of the batch too, and must send it the one-by-one way.
            await session.finish()
            await session.flush()
        except Exception as e:  # rolled back whole; the slow way records it against its event
            if retry_reason(e) is not None:
                raise  # lost to a concurrent unit: the whole unit runs again, not one by one
            raise _OneByOne from e
        await inbox.mark_processed(session, event_ids=[row.id for row in rows], now=now)
        await _publish_counts(session)
    _observe_lag(received, at=database.clock.now())
    return len(rows)


async def _process_one_by_one(
    database: Database, *, now: datetime, limit: int, handlers: Mapping[str, Handler]
) -> int:
    async with database.transaction() as session:
        rows = await inbox.claim_due(session, now=now, limit=limit)
        # Locked before the savepoints: row locks taken here outlive an event's rollback, so
        # the events below still lock in the global order whatever fails among them.
        await _lock_batch(session, _parsed(rows), remember=False)
        done: list[datetime] = []
        for row in sorted(rows, key=lambda r: handling_order(r.type)):
            if await _process_one(session, row, now=now, handlers=handlers):
                done.append(row.received_at)
        if rows:
            await _publish_counts(session)
    _observe_lag(done, at=database.clock.now())
    return len(rows)


def _parsed(rows: Sequence[WebhookEvent]) -> list[StripeEvent]:
    """The rows' events, leaving out a payload that does not parse (its own handler run says so)."""
    events = []
    for row in rows:
        try:
            event = StripeEvent.from_payload(row.payload)
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            continue
        if isinstance(event.obj, dict):
            events.append(event)
    return events


async def _publish_counts(session: AsyncSession) -> None:
    backlog, dead = await inbox.counts(session)
    WEBHOOK_BACKLOG.set(backlog)
    WEBHOOK_DEAD_LETTERS.set(dead)


def _observe_lag(received: Sequence[datetime], *, at: datetime) -> None:
    for received_at in received:
        WEBHOOK_LAG.observe(max((at - received_at).total_seconds(), 0.0))


async def _process_one(
    session: UnitOfWork, event: WebhookEvent, *, now: datetime, handlers: Mapping[str, Handler]
) -> bool:
    """Run one event in its own savepoint; True when it was processed, False when it failed."""
    row_id, attempts, event_type = event.id, event.attempts, event.type
    handler = handlers.get(event_type)
    try:
        async with session.begin_nested():
            if handler is not None:
                await handler(session, StripeEvent.from_payload(event.payload))
    except Exception as e:  # one bad event must not stop the others; it is recorded
        if retry_reason(e) is not None:
            raise  # not this event's fault: the whole unit runs again (process_due_events)
        session.forget_caches()
        # NotYetKnown is an out-of-order delivery (its message says what is missing).
        known = isinstance(e, NotYetKnown)
        await _failed(
            session,
            row_id=row_id,
            attempts=attempts,
            event_type=event_type,
            kind="not_yet_known" if known else "error",
            error=str(e) if known else repr(e),
            now=now,
        )
        return False
    await inbox.mark_processed(session, event_ids=[row_id], now=now)
    return True


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
