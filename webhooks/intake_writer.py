"""Group commit for the webhook intake: deliveries that arrive together are made durable together.

A viral campaign's Stripe events arrive in waves. Committing each delivery on its own costs a
transaction, a round trip and a WAL flush per event; the database (one of two cores here)
then spends more on commits than on rows. So each request verifies its own signature and
hands its row to this process's writer, which inserts every row waiting at that moment in ONE
`INSERT ... ON CONFLICT DO NOTHING` and ONE commit, then answers all of them. While a batch is
in flight the next one gathers, so the batch grows with the load and an idle endpoint still
writes a lone delivery at once (no timer, no added wait).

What holds:
- Nothing is acknowledged before it is durable: a request's future is resolved only after the
  statement that carried its row committed (PostgreSQL's default synchronous_commit).
- A failed batch fails only its own requests (503, Stripe retries). A row the database refuses
  (a constraint, a value it cannot take) is found by splitting the batch in halves until the
  refused row is alone: only its request gets 503, the others are stored.
- Duplicates store once: within a batch the writer keeps one row per event id (the others get
  that row's outcome); across batches the UNIQUE constraint decides (ON CONFLICT DO NOTHING).
- Bounded: at most `max_waiting` rows wait for a batch; beyond that the delivery is refused at
  once with 503 and Retry-After (backpressure) instead of queueing without end.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg  # type: ignore[import-untyped]  # no stubs published; only its exception types are used
from sqlalchemy import exc as sa_exc

from service.db import Database
from service.logging import get_logger
from webhooks import inbox
from webhooks.errors import InboxUnavailable, IntakeBusy
from webhooks.metrics import INTAKE_BATCH_ROWS, INTAKE_BATCHES

log = get_logger("goodloop.webhooks")

MAX_WAITING = 4096
"""Rows waiting for a batch before deliveries are refused (each holds a request open)."""
MAX_BATCH = 1000
"""Rows per statement: bounds a statement's size and the work lost to one failure."""
FLUSHERS = 2
"""Batches in flight at once: one gathers and is sent while the other commits, so the
database's commit (disk flush) and the next statement's parse overlap."""


@dataclass(frozen=True)
class _Waiting:
    row: inbox.InboxRow
    outcome: asyncio.Future[bool]


class Poisoned(Exception):
    """The database refused a row itself (not an outage): retrying it cannot help."""


class InboxWriter:
    """One per process (per app): batches inbox rows into group commits."""

    def __init__(
        self, *, max_waiting: int = MAX_WAITING, max_batch: int = MAX_BATCH, flushers: int = FLUSHERS
    ) -> None:
        self.max_waiting = max_waiting
        self.max_batch = max_batch
        self.flushers = flushers
        self._waiting: list[_Waiting] = []
        self._flushing = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def store(self, database: Database, row: inbox.InboxRow) -> bool:
        """Wait until `row` is durable; True when this delivery stored it first.

        Raises IntakeBusy when too many rows already wait, InboxUnavailable when its batch
        (or, for a refused row, the row itself) could not be stored.
        """
        if len(self._waiting) >= self.max_waiting:
            raise IntakeBusy("too many deliveries are waiting to be stored; retry shortly")
        outcome: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(row, outcome))
        if self._flushing < self.flushers:
            self._flushing += 1
            task = asyncio.create_task(self._flush(database), name="goodloop-inbox-writer")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # Shielded: a client that hangs up must not cancel the outcome others share.
        return await asyncio.shield(outcome)

    async def _flush(self, database: Database) -> None:
        # Take everything waiting now, write it, and go again while rows keep arriving. The
        # count drops with no await after the last look at the queue: a row that arrives
        # later always finds a free flusher slot.
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
                await self._write(database, batch)
        finally:
            self._flushing -= 1

    async def _write(self, database: Database, batch: Sequence[_Waiting]) -> None:
        # One row per event id: a duplicate within the batch shares its first delivery's fate.
        firsts: dict[str, _Waiting] = {}
        for waiting in batch:
            firsts.setdefault(waiting.row.stripe_event_id, waiting)
        try:
            # In event id order: two batches in flight that share an event (a delivery and its
            # retry) then take the unique index's entries in one order, so one waits for the
            # other's commit instead of both waiting on each other (a deadlock).
            rows = sorted((waiting.row for waiting in firsts.values()), key=_event_id)
            stored = await _insert(database, rows)
        except Poisoned as e:
            if len(firsts) == 1:
                log.warning("webhook row refused by the inbox", error=str(e.__cause__))
                _fail(batch, InboxUnavailable("the event could not be stored; retry later"))
                return
            # Split until the refused row is alone; the others are stored as usual.
            ids = list(firsts)
            left = set(ids[: len(ids) // 2])
            await self._write(database, [w for w in batch if w.row.stripe_event_id in left])
            await self._write(database, [w for w in batch if w.row.stripe_event_id not in left])
            return
        except _OUTAGE as e:
            log.warning("webhook inbox unavailable", rows=len(batch), error=type(e).__name__)
            _fail(batch, InboxUnavailable("the event could not be stored; retry later"))
            return
        except BaseException as e:
            # Anything else (a bug, a cancellation at shutdown): never leave a request hanging.
            _fail(batch, InboxUnavailable("the event could not be stored; retry later"))
            if not isinstance(e, Exception):
                raise
            log.exception("webhook batch failed", rows=len(batch))
            return
        INTAKE_BATCHES.inc()
        INTAKE_BATCH_ROWS.inc(len(firsts))
        for waiting in batch:
            first = firsts[waiting.row.stripe_event_id] is waiting and waiting.row.stripe_event_id in stored
            if not waiting.outcome.done():
                waiting.outcome.set_result(first)


def _event_id(row: inbox.InboxRow) -> str:
    return row.stripe_event_id


def _fail(batch: Sequence[_Waiting], error: Exception) -> None:
    for waiting in batch:
        if not waiting.outcome.done():
            waiting.outcome.set_exception(error)
            # The request may have gone (its client hung up): nobody else retrieves it.
            waiting.outcome.exception()


# The database is away or overloaded: the whole batch answers 503 and Stripe retries.
_OUTAGE = (
    sa_exc.DBAPIError,
    sa_exc.OperationalError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)

# SQLSTATE classes of a refused row: 22 data exception, 23 integrity constraint violation.
_REFUSED_CLASSES = ("22", "23")


async def _insert(database: Database, rows: Sequence[inbox.InboxRow]) -> set[str]:
    try:
        if database.is_postgresql:
            async with database.driver_connection() as driver:
                return await inbox.store_rows_on_driver(driver, rows)
        async with database.single_statement() as connection:
            return await inbox.store_rows(connection, rows)
    except (sa_exc.IntegrityError, sa_exc.DataError, sqlite3.IntegrityError) as e:
        raise Poisoned("refused") from e
    except asyncpg.PostgresError as e:
        # Includes asyncpg.DataError (SQLSTATE class 22). A value asyncpg cannot encode for
        # its parameter raises asyncpg.exceptions._base.DataError instead, an InterfaceError
        # (before sending), which is not caught here.
        if str(getattr(e, "sqlstate", "") or "")[:2] in _REFUSED_CLASSES:
            raise Poisoned("refused") from e
        raise
