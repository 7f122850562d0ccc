"""The unit of work: one transaction's session plus everything that transaction carries.

An edge (a route, a worker job, a CLI command, a webhook batch, a simulator step) opens one
with `Database.transaction()` / `Database.run()` and passes it to the use cases. It *is* the
session those use cases already take (a subclass of AsyncSession, so every query and lock
reads as before), and it carries, as typed fields instead of string keys in the session's
info dict (docs/architecture.md, "Unit of work and clock"):

- the clock (`now()`), built once where the process is assembled;
- the ledger's per-transaction state: deferred postings, the account-id cache, the keys
  posted in this transaction and which accounts carry a balance flag (service.ledger);
- donations locked in advance by the webhook processor (campaigns.donations.repository);
- campaigns whose totals are due (campaigns.donations.settlement): refreshed by `finish()`,
  last, under their locks, so no caller has to remember it;
- the cause of a clawback that the webhook registry is applying (campaigns.payouts.causes);
- whether any matching program exists (campaigns.matching.repository);
- a batch's reads of settings its handlers do not change (`remembered`): only while the
  webhook processor runs a batch, which may announce hundreds of facts of one nonprofit;
- work that must wait for the commit (metrics counts): run only once the commit succeeded.

`finish()` runs before the commit: queued ledger postings are written (the ledger registers its
flush with `queue_writes` when it starts deferring), then the finishers
the use cases registered run in the order they were first registered (campaign totals come
last in the lock order, docs/architecture.md). Timestamps: rows the unit inserts or updates
get their `created_at` / `updated_at` (columns made by service.db's `created_at_column` /
`updated_at_column`) from the unit's clock at flush time, unless the use case set them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, UOWTransaction
from sqlalchemy.orm.attributes import flag_modified

from service.clock import Clock, SystemClock

Finisher = Callable[["UnitOfWork"], Awaitable[None]]
AfterCommit = Callable[[], None]
T = TypeVar("T")

STAMP_ON_INSERT = "stamp_on_insert"
STAMP_ON_UPDATE = "stamp_on_update"
"""Column.info flags (service.db sets them) for timestamps the unit of work writes from its clock."""


class UnitOfWorkSession(Session):
    """The synchronous session behind a UnitOfWork: knows the unit's clock for flush-time stamps."""

    clock: Clock = SystemClock()


class UnitOfWork(AsyncSession):
    """One transaction and its carried state; see the module docstring."""

    sync_session: UnitOfWorkSession

    def __init__(self, *args: Any, clock: Clock | None = None, **kw: Any) -> None:
        kw.setdefault("sync_session_class", UnitOfWorkSession)
        super().__init__(*args, **kw)
        self.clock: Clock = clock or SystemClock()
        self.sync_session.clock = self.clock
        # service.ledger
        self.ledger_account_ids: dict[tuple[str, str], uuid.UUID] = {}
        self.ledger_posted_keys: set[str] = set()
        self.ledger_deferred: list[dict[str, object]] | None = None
        self.ledger_limited_accounts: dict[uuid.UUID, bool] = {}
        # campaigns.donations.repository: a LockedDonations (typed there; service sits below)
        self.locked_donations: object | None = None
        # campaigns.donations.settlement
        self.campaigns_due: set[uuid.UUID] = set()
        # ... and the donations first paid in this unit, for the live supporter events
        self.donations_first_paid: list[uuid.UUID] = []
        # campaigns.payouts.causes
        self.clawback_cause: str | None = None
        # campaigns.matching.repository
        self.any_matching_program: bool | None = None
        # remembered(): None except inside a webhook batch (webhooks.processor)
        self.batch_reads: dict[Hashable, object] | None = None
        self._finishers: list[Finisher] = []
        self._queued_writes: list[Finisher] = []
        self._after_commit: list[AfterCommit] = []

    def now(self) -> datetime:
        return self.clock.now()

    def before_commit(self, finisher: Finisher) -> None:
        """Run `finisher(uow)` in `finish()`; registering the same one again changes nothing."""
        if finisher not in self._finishers:
            self._finishers.append(finisher)

    def queue_writes(self, write: Finisher) -> None:
        """`write(uow)` writes what a module queued in this unit (the ledger's deferred postings):
        `finish()` runs it first, so the finishers read the queue's effects, and again last.
        The owner registers it when it starts queueing, so this module needs no import of it."""
        if write not in self._queued_writes:
            self._queued_writes.append(write)

    def after_commit(self, work: AfterCommit) -> None:
        """Run `work` once the commit succeeded; dropped if the unit rolls back."""
        self._after_commit.append(work)

    async def remembered(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """`load()`, read once per batch when the webhook processor turned batch reads on.

        For settings a fact listener reads per fact and no webhook handler writes (a
        nonprofit's receipt issuer, members' email choices, webhook endpoints): a batch
        confirming hundreds of gifts of one nonprofit reads each once instead of per gift.
        Anywhere else (routes, commands, the one-by-one path) every call loads afresh, so a
        unit that changes such a setting and then announces a fact sees its own change.
        """
        if self.batch_reads is None:
            return await load()
        if key not in self.batch_reads:
            self.batch_reads[key] = await load()
        return cast(T, self.batch_reads[key])

    def forget_caches(self) -> None:
        """After rolling back to a savepoint: what the rolled-back work posted or cached is gone.

        The processor's one-by-one fallback calls this after an event's savepoint failed; the
        account ids may name accounts the savepoint created, the keys and queued postings may
        be the failed event's.
        """
        self.ledger_account_ids = {}
        self.ledger_posted_keys = set()
        self.ledger_deferred = None
        self.ledger_limited_accounts = {}
        self.batch_reads = None

    async def finish(self) -> None:
        """The unit's own work before commit: queued writes, the finishers, queued writes again."""
        await self._write_queued()
        done = 0
        # A finisher may register another (or more work for itself): run until none is new.
        while done < len(self._finishers):
            finisher = self._finishers[done]
            done += 1
            await finisher(self)
        # Finishers may queue writes of their own (a totals refresh never does today).
        await self._write_queued()

    async def _write_queued(self) -> None:
        for write in self._queued_writes:
            await write(self)

    def committed(self) -> None:
        """The transaction committed: run (and drop) the after-commit work."""
        work, self._after_commit = self._after_commit, []
        for item in work:
            item()

    def rolled_back(self) -> None:
        self._after_commit = []


@sa.event.listens_for(UnitOfWorkSession, "before_flush")
def _stamp_times(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    """created_at / updated_at from the unit's clock (its own instant, not the system's)."""
    if not session.new and not session.dirty:
        return
    now = session.clock.now() if isinstance(session, UnitOfWorkSession) else None
    if now is None:
        return
    for obj in session.new:
        for key in _stamped(sa.inspect(obj).mapper, STAMP_ON_INSERT):
            if getattr(obj, key) is None:
                setattr(obj, key, now)
    for obj in session.dirty:
        state = sa.inspect(obj)
        keys = _stamped(state.mapper, STAMP_ON_UPDATE)
        if not keys or not session.is_modified(obj, include_collections=False):
            continue
        for key in keys:
            if not state.attrs[key].history.has_changes():
                setattr(obj, key, now)
                # Setting the value the row already holds (a second change at the same instant of
                # a settable clock, stamped by an earlier flush) records no change, and the
                # column's onupdate would then write the system's time: always write it.
                flag_modified(obj, key)


@sa.event.listens_for(UnitOfWorkSession, "do_orm_execute")
def _stamp_bulk_updates(state: ORMExecuteState) -> None:
    """An UPDATE statement on a mapped class (`sa.update(Match)...`) bypasses the flush: its
    updated_at comes from the unit's clock too, unless the statement sets it."""
    if not state.is_update or not isinstance(state.session, UnitOfWorkSession):
        return
    mapper = state.bind_arguments.get("mapper")
    statement = state.statement
    if mapper is None or not isinstance(statement, sa.Update):
        return
    keys = _stamped(mapper, STAMP_ON_UPDATE)
    given = {getattr(column, "key", column) for column in (statement._values or {})}
    missing = {key: state.session.clock.now() for key in keys if key not in given}
    if missing:
        state.statement = statement.values(missing)


_STAMPED: dict[tuple[Mapper[Any], str], tuple[str, ...]] = {}


def _stamped(mapper: Mapper[Any], flag: str) -> tuple[str, ...]:
    found = _STAMPED.get((mapper, flag))
    if found is None:
        found = _STAMPED[(mapper, flag)] = tuple(
            prop.key for prop in mapper.column_attrs if any(column.info.get(flag) for column in prop.columns)
        )
    return found
