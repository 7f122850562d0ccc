"""The event inbox: store a verified event once, claim due events, record outcomes, replay.

Named queries only; callers own the transaction. Storing is INSERT ... ON CONFLICT DO NOTHING
on the Stripe event id, so a duplicate delivery is a no-op decided by the UNIQUE constraint.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from webhooks.events import Envelope
from webhooks.models import WebhookEvent

MAX_ATTEMPTS = 10
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 3600.0
ERROR_TEXT_LIMIT = 2000


async def store_event(
    connection: AsyncConnection, *, envelope: Envelope, payload_json: str, received_at: datetime
) -> bool:
    """Store the event unless it is already there; True when this delivery was the first.

    Takes a connection (a session's, or Database.single_statement's): the intake needs
    nothing from the ORM, and one autocommitted INSERT is all a delivery costs. The payload
    is stored as the JSON text it arrived as (already parsed and validated by the caller),
    so it is not serialised a second time.
    """
    row = InboxRow(
        stripe_event_id=envelope.id,
        type=envelope.type,
        account=envelope.account,
        api_version=envelope.api_version,
        livemode=envelope.livemode,
        payload_json=payload_json,
        stripe_created_at=_timestamp(envelope.created),
        received_at=received_at,
    )
    return envelope.id in await store_rows(connection, [row])


@dataclass(frozen=True)
class InboxRow:
    """One verified delivery, ready to store: what store_event takes, as one value."""

    stripe_event_id: str
    type: str
    account: str | None
    api_version: str | None
    livemode: bool
    payload_json: str
    stripe_created_at: datetime
    received_at: datetime

    @classmethod
    def of(cls, envelope: Envelope, *, payload_json: str, received_at: datetime) -> InboxRow:
        """Raises ValueError when `created` is no instant Python can hold (after year 9999)."""
        return cls(
            stripe_event_id=envelope.id,
            type=envelope.type,
            account=envelope.account,
            api_version=envelope.api_version,
            livemode=envelope.livemode,
            payload_json=payload_json,
            stripe_created_at=_checked_timestamp(envelope.created),
            received_at=received_at,
        )


def _checked_timestamp(seconds: int) -> datetime:
    try:
        return _timestamp(seconds)
    except (OverflowError, OSError) as e:
        raise ValueError(f"created is out of range: {seconds}") from e


_INSERT_ROWS_ON_DRIVER = (
    "INSERT INTO webhook_events (id, stripe_event_id, type, account, api_version, livemode, payload,"
    " stripe_created_at, received_at, attempts, dead)"
    " SELECT id, stripe_event_id, type, account, api_version, livemode, payload::json,"
    " stripe_created_at, received_at, 0, false"
    " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[],"
    " $8::timestamptz[], $9::timestamptz[])"
    " AS t(id, stripe_event_id, type, account, api_version, livemode, payload,"
    " stripe_created_at, received_at)"
    " ON CONFLICT (stripe_event_id) DO NOTHING RETURNING stripe_event_id"
)


async def store_rows_on_driver(driver: Any, rows: Sequence[InboxRow]) -> set[str]:
    """Store many deliveries in ONE autocommitted statement on PostgreSQL's own driver (asyncpg);
    returns the Stripe event ids this statement stored (the others were already there).

    One statement is one transaction and one commit (one WAL flush) however many rows it
    carries: the intake's group commit (webhooks/intake_writer.py). The rows travel as nine
    arrays, so the statement text, and asyncpg's prepared statement, is the same for every
    batch size. Event ids must be unique within `rows` (the caller deduplicates).
    """
    stored = await driver.fetch(
        _INSERT_ROWS_ON_DRIVER,
        [uuid.uuid4() for _ in rows],
        [row.stripe_event_id for row in rows],
        [row.type for row in rows],
        [row.account for row in rows],
        [row.api_version for row in rows],
        [row.livemode for row in rows],
        [row.payload_json for row in rows],
        [row.stripe_created_at for row in rows],
        [row.received_at for row in rows],
    )
    return {record[0] for record in stored}


async def store_rows(connection: AsyncConnection, rows: Sequence[InboxRow]) -> set[str]:
    """store_rows_on_driver through SQLAlchemy (SQLite): one statement per row, all in the
    caller's one transaction, so still one commit for the batch. Event ids must be unique."""
    stored: set[str] = set()
    statement = _insert_event(connection.dialect.name)
    for row in rows:
        parameters = {
            "id": uuid.uuid4(),
            "stripe_event_id": row.stripe_event_id,
            "type": row.type,
            "account": row.account,
            "api_version": row.api_version,
            "livemode": row.livemode,
            "payload": row.payload_json,
            "stripe_created_at": row.stripe_created_at,
            "received_at": row.received_at,
            "attempts": 0,
            "dead": False,
        }
        if (await connection.execute(statement, parameters)).scalar() is not None:
            stored.add(row.stripe_event_id)
    return stored


@functools.cache
def _insert_event(dialect: str) -> sa.Insert:
    """INSERT ... ON CONFLICT (stripe_event_id) DO NOTHING RETURNING id, built once per dialect.

    The intake runs this for every delivery; building the statement cost as much as running it.
    """
    columns = (
        "id",
        "stripe_event_id",
        "type",
        "account",
        "api_version",
        "livemode",
        "stripe_created_at",
        "received_at",
        "attempts",
        "dead",
    )
    values: dict[str, Any] = {column: sa.bindparam(column) for column in columns}
    # The JSON text goes in as text: PostgreSQL casts it to json itself; SQLite keeps JSON
    # as text anyway (and its CAST(... AS JSON) would mean NUMERIC).
    text = sa.bindparam("payload", type_=sa.Text())
    postgres = dialect == "postgresql"
    values["payload"] = sa.cast(text, sa.JSON()) if postgres else text
    insert = postgresql.insert(WebhookEvent) if postgres else sqlite.insert(WebhookEvent)
    return (
        insert.values(values)
        .on_conflict_do_nothing(index_elements=["stripe_event_id"])
        .returning(WebhookEvent.id)
    )


def _timestamp(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        WebhookEvent.processed_at.is_(None),
        WebhookEvent.dead.is_(False),
        sa.or_(WebhookEvent.next_attempt_at.is_(None), WebhookEvent.next_attempt_at <= now),
    )


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> Sequence[WebhookEvent]:
    """Lock up to `limit` due events in arrival order; other workers skip the locked ones.

    SQLite has no row locks: its single writer serialises processors, so a plain select inside
    the write transaction is enough there.
    """
    query = (
        sa.select(WebhookEvent)
        .where(_due(now))
        .order_by(WebhookEvent.received_at, WebhookEvent.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    else:
        # Take SQLite's write lock before reading: a reader that upgrades to a writer while
        # another connection writes gets SQLITE_BUSY at once instead of waiting its turn.
        await session.execute(
            sa.update(WebhookEvent).where(sa.false()).values(attempts=WebhookEvent.attempts)
        )
    return (await session.scalars(query)).all()


async def mark_processed(session: AsyncSession, *, event_ids: Sequence[uuid.UUID], now: datetime) -> None:
    await session.execute(
        sa.update(WebhookEvent)
        .where(WebhookEvent.id.in_(event_ids))
        .values(processed_at=now, attempts=WebhookEvent.attempts + 1, last_error=None, next_attempt_at=None)
        # The batch's session holds every object it touched; matching them all per update is O(n^2).
        .execution_options(synchronize_session=False)
    )


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: 2 s, 4 s, 8 s ... capped at an hour."""
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S))


async def record_failure(
    session: AsyncSession, *, event_id: uuid.UUID, attempts_before: int, error: str, now: datetime
) -> bool:
    """Count a failed attempt and schedule the next; returns True when the event is now dead."""
    attempts = attempts_before + 1
    dead = attempts >= MAX_ATTEMPTS
    await session.execute(
        sa.update(WebhookEvent)
        .where(WebhookEvent.id == event_id)
        .values(
            attempts=attempts,
            last_error=error[:ERROR_TEXT_LIMIT],
            dead=dead,
            next_attempt_at=None if dead else now + backoff(attempts),
        )
        .execution_options(synchronize_session=False)
    )
    return dead


async def get_event(session: AsyncSession, *, key: str) -> WebhookEvent | None:
    """By our row id (a UUID) or by Stripe's event id (evt_...)."""
    try:
        row_id = uuid.UUID(key)
    except ValueError:
        return await session.scalar(sa.select(WebhookEvent).where(WebhookEvent.stripe_event_id == key))
    return await session.get(WebhookEvent, row_id)


async def replay(session: AsyncSession, *, event: WebhookEvent, now: datetime) -> WebhookEvent:
    """Queue the event to run again; handlers are idempotent, so a replay of a done event is safe."""
    event.processed_at = None
    event.dead = False
    event.attempts = 0
    event.last_error = None
    event.next_attempt_at = now
    await session.flush()
    return event


async def list_events(
    session: AsyncSession, *, dead: bool | None, limit: int, before: datetime | None = None
) -> Sequence[WebhookEvent]:
    query = sa.select(WebhookEvent).order_by(WebhookEvent.received_at.desc(), WebhookEvent.id).limit(limit)
    if dead is not None:
        query = query.where(WebhookEvent.dead.is_(dead))
    if before is not None:
        query = query.where(WebhookEvent.received_at < before)
    return (await session.scalars(query)).all()


async def counts(session: AsyncSession) -> tuple[int, int]:
    """(backlog, dead letters); both read only unprocessed rows, through the claim index."""
    unprocessed = (
        sa.select(sa.func.count()).select_from(WebhookEvent).where(WebhookEvent.processed_at.is_(None))
    )
    backlog = await session.scalar(unprocessed.where(WebhookEvent.dead.is_(False)))
    dead = await session.scalar(unprocessed.where(WebhookEvent.dead.is_(True)))
    return int(backlog or 0), int(dead or 0)


async def known_event_ids(session: AsyncSession, *, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    found = await session.scalars(
        sa.select(WebhookEvent.stripe_event_id).where(WebhookEvent.stripe_event_id.in_(ids))
    )
    return set(found)


async def newer_processed_exists(
    session: AsyncSession, *, event_type: str, account: str, created_at: datetime, event_id: str
) -> bool:
    """Whether a later event of this type for this connected account was already applied."""
    found = await session.scalar(
        sa.select(WebhookEvent.id)
        .where(
            WebhookEvent.type == event_type,
            WebhookEvent.account == account,
            WebhookEvent.stripe_created_at > created_at,
            WebhookEvent.processed_at.is_not(None),
            WebhookEvent.stripe_event_id != event_id,
        )
        .limit(1)
    )
    return found is not None
