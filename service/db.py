"""Database kernel: declarative base, column types, engine and session factory."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]  # no stubs published
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry

from service.clock import Clock, SystemClock
from service.errors import DomainError
from service.logging import get_logger
from service.metrics import DB_RETRIES
from service.unit_of_work import UnitOfWork

T = TypeVar("T")
SelectT = TypeVar("SelectT", bound=sa.Select[Any])
log = get_logger("goodloop.db")

# Constraint names are part of the schema: migrations refer to them, so they must be stable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(sa.Uuid(), primary_key=True, default=uuid.uuid4)


def created_at_column() -> Mapped[datetime]:
    """When the row was made: a unit of work stamps it from its clock at flush (the default
    only serves inserts that bypass the ORM and do not name it)."""
    return mapped_column(UTCDateTime(), nullable=False, default=utcnow, info={"stamp_on_insert": True})


def updated_at_column() -> Mapped[datetime]:
    """When the row last changed: stamped from the unit of work's clock on insert and update."""
    return mapped_column(
        UTCDateTime(),
        default=utcnow,
        onupdate=utcnow,
        info={"stamp_on_insert": True, "stamp_on_update": True},
    )


def str_enum(enum_cls: type[Any], name: str) -> sa.Enum:
    """A portable enum: VARCHAR plus a named CHECK constraint, storing the lowercase values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
        return engine
    # A pool big enough for a busy process's concurrent requests, so connections are reused
    # instead of opened and closed per request under load (an asyncpg connect costs ms).
    # Bounded waits when the database is away: a connect that hangs (a host gone silent) or a
    # pool whose connections all hang fails within seconds and the request answers 503,
    # instead of holding the donor's browser for asyncpg's 60 s and the pool's 30 s.
    engine = create_async_engine(
        database_url,
        echo=echo,
        pool_size=20,
        max_overflow=10,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args={"timeout": CONNECT_TIMEOUT_S},
    )
    # A connection just opened is as fresh as one just returned: no ping on its first use.
    event.listen(engine.sync_engine, "connect", _note_checkin)
    event.listen(engine.sync_engine, "checkin", _note_checkin)
    event.listen(engine.sync_engine, "checkout", _ping_if_idle)
    return engine


CONNECT_TIMEOUT_S = 15.0
POOL_TIMEOUT_S = 15.0
IDLE_PING_AFTER_S = 5.0
"""A pooled connection idle longer than this is pinged before use (it may have gone stale)."""


def _note_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """pool_pre_ping, for connections that sat idle only.

    The asyncpg adapter's ping is three round trips (BEGIN, a query, ROLLBACK); paying that
    on every checkout doubled the cost of a one-statement request. A connection in steady
    use was just proven alive by its last statement; one idle for a while (a database
    restart, a dropped socket) is checked, and a dead one is replaced by the pool, which
    retries the checkout with a fresh connection (DisconnectionError).

    Whether the server already closed the connection is known without a round trip, and is
    checked on every checkout: after a database restart or a terminated backend, the first
    request must not be the one that finds out.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")
    if time.monotonic() - record.info.get("checked_in_at", 0.0) < IDLE_PING_AFTER_S:
        return
    try:
        dbapi_connection.ping()
    except Exception as e:
        raise DisconnectionError("idle connection failed its ping") from e


def _configure_sqlite(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the page readers run beside the worker.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # The sqlite3 module's own transaction handling starts transactions late (only before
    # DML) and lets a SAVEPOINT become the outermost transaction, so a RELEASE would commit
    # half a unit of work. Take control: no implicit BEGIN from the driver, an explicit one
    # from SQLAlchemy whenever a transaction starts (the documented SQLAlchemy recipe).
    dbapi_connection.isolation_level = None


def _begin_sqlite(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that read first and
    # writes later fails at once with "database is locked" when another writer got in
    # between (the busy timeout cannot help there); waiting for the lock at BEGIN can.
    # SQLite is the single-machine default, so serialised writers are the right trade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def insert_for(session: AsyncSession, model: type[Any]) -> Any:
    """The dialect's INSERT for model, which knows ON CONFLICT (both backends speak it)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


async def add_unique(session: AsyncSession, row: Base, conflict: Exception) -> None:
    """Insert a row whose uniqueness the database guards; a clash raises `conflict`.

    The savepoint keeps the surrounding transaction usable, and the constraint (not a
    select-then-insert) decides, so two racing requests cannot both win.
    """
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as e:
        raise conflict from e


def for_no_key_update(query: SelectT, *, skip_locked: bool = False) -> SelectT:
    """`query` row-locking what it reads with the weakest lock that still excludes other writers.

    FOR NO KEY UPDATE (PostgreSQL) is what a plain UPDATE of non-key columns takes: it does not
    conflict with the FOR KEY SHARE lock a foreign key check takes on the parent row when a
    child row is inserted. FOR UPDATE does, and that is how a checkout inserting a donation
    (key share on its campaign) and the webhook processor locking that campaign deadlocked.
    See docs/architecture.md, "Lock order". SQLite renders no row lock (BEGIN IMMEDIATE
    serialises its writers), so the same query serves both backends.
    """
    return query.with_for_update(key_share=True, skip_locked=skip_locked)


async def locked_rows(session: AsyncSession, query: sa.Select[Any]) -> Sequence[Any]:
    """Run `query` FOR NO KEY UPDATE and reload what it locks (populate_existing), so the objects
    show the rows as they are now that no one else can change them.

    Sessions do not autoflush, and the reload would overwrite the transaction's own unflushed
    changes: they are flushed first. Callers lock in the global order of docs/architecture.md.
    """
    await session.flush()
    result = await session.scalars(for_no_key_update(query).execution_options(populate_existing=True))
    return result.all()


RETRYABLE_SQLSTATES = {"40P01": "deadlock", "40001": "serialization_failure"}
"""PostgreSQL errors after which the same unit of work, run again from the start, can succeed."""

UNIT_ATTEMPTS = 5
"""Tries of one unit of work before it gives up with DatabaseBusy (503)."""


class DatabaseBusy(DomainError):
    """A unit of work kept losing to concurrent ones: the client should try again shortly."""

    code = "database_busy"
    status_code = 503

    def __init__(self, detail: str, *, retry_after_s: int = 2) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


def retry_reason(error: BaseException) -> str | None:
    """'deadlock' or 'serialization_failure' when `error` (or what caused it) is one; else None.

    The driver's error travels as SQLAlchemy's DBAPIError (`orig`) and may be wrapped again by
    a caller (`raise ... from e`), so the whole cause chain is looked at.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, DatabaseBusy):
            return None  # an inner unit already retried and gave up: no retries of retries
        seen.add(id(current))
        for candidate in (current, getattr(current, "orig", None)):
            state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
            if isinstance(state, str) and state in RETRYABLE_SQLSTATES:
                return RETRYABLE_SQLSTATES[state]
        current = current.__cause__ or current.__context__
    return None


def retry_delay_s(attempt: int) -> float:
    """Small, jittered and growing: rivals that collided once should not collide again in step."""
    return random.uniform(0.0, 0.02 * 2**attempt)  # jitter, not a secret: random is enough


async def retrying(unit: Callable[[], Awaitable[T]], *, name: str, attempts: int = UNIT_ATTEMPTS) -> T:
    """Run `unit` (a whole unit of work that opens its own transactions) again from the start
    when PostgreSQL aborted it for a deadlock or a serialization failure.

    Only the edge that owns the transactions may call this (a route, a worker job): a retry
    re-runs every statement with a fresh session, never one statement inside a broken
    transaction. Each retry is logged and counted (goodloop_db_retries_total); a unit that still
    fails after `attempts` tries raises DatabaseBusy, a 503 with Retry-After, never a 500.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await unit()
        except (DBAPIError, DomainError) as e:
            reason = retry_reason(e)
            if reason is None:
                raise
            DB_RETRIES.labels(name, reason).inc()
            if attempt == attempts:
                log.error("unit of work gave up", unit=name, reason=reason, attempts=attempt)
                raise DatabaseBusy(
                    "the service is busy right now; nothing was changed, please try again in a moment"
                ) from e
            log.warning("unit of work retried", unit=name, reason=reason, attempt=attempt)
            await asyncio.sleep(retry_delay_s(attempt))
    raise AssertionError("unreachable: the loop returns or raises")


class Database:
    """The engine and session factory one process shares; edges open transactions from it."""

    def __init__(self, engine: AsyncEngine, *, clock: Clock | None = None) -> None:
        self.engine = engine
        # The process's one clock (docs/architecture.md, "Unit of work and clock"): every
        # unit of work carries it, so the domain never reads the system time itself.
        self.clock: Clock = clock or SystemClock()
        self.sessions = async_sessionmaker(engine, class_=UnitOfWork, expire_on_commit=False, autoflush=False)
        self._driver_pool: Any = None
        self._driver_pool_lock = asyncio.Lock()

    @classmethod
    def from_url(cls, database_url: str, *, clock: Clock | None = None) -> Database:
        return cls(create_engine(database_url), clock=clock)

    def unit_of_work(self) -> UnitOfWork:
        """A fresh unit of work on this database's clock, no transaction begun yet."""
        return self.sessions(clock=self.clock)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """One unit of work: finishes its own work and commits when the block ends, rolls
        back if it raises; after-commit work (metrics) runs only once the commit succeeded."""
        async with self.unit_of_work() as uow:
            try:
                async with uow.begin():
                    yield uow
                    await uow.finish()
            except BaseException:
                uow.rolled_back()
                raise
            uow.committed()

    async def run(self, name: str, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """`work` in one transaction, run again with a fresh unit of work on deadlock (see `retrying`)."""

        async def unit() -> T:
            async with self.transaction() as uow:
                return await work(uow)

        return await retrying(unit, name=name)

    @asynccontextmanager
    async def single_statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one statement that is a whole unit of work by itself.

        On PostgreSQL it runs in autocommit: the statement is its own transaction, so there
        is no BEGIN and COMMIT round trip around it (the webhook intake's single INSERT).
        SQLite keeps its explicit BEGIN IMMEDIATE transaction (see _begin_immediate).
        """
        if self.engine.dialect.name == "postgresql":
            async with self.engine.connect() as conn:
                yield await conn.execution_options(isolation_level="AUTOCOMMIT")
        else:
            async with self.engine.begin() as conn:
                yield conn

    @asynccontextmanager
    async def driver_connection(self) -> AsyncIterator[Any]:
        """PostgreSQL only: an asyncpg connection from a small pool of the driver's own.

        For a request that is one statement and nothing else (the webhook intake): going
        through SQLAlchemy's pool and execution layer cost about three times the statement.
        No transaction is open on it (asyncpg autocommits). Connections idle for more than
        IDLE_PING_AFTER_S are closed rather than trusted, as the main pool pings them.
        """
        pool = self._driver_pool or await self._open_driver_pool()
        async with pool.acquire() as connection:
            yield connection

    async def _open_driver_pool(self) -> Any:
        async with self._driver_pool_lock:
            if self._driver_pool is None:
                dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                self._driver_pool = await asyncpg.create_pool(
                    dsn,
                    min_size=0,
                    max_size=10,
                    max_inactive_connection_lifetime=IDLE_PING_AFTER_S,
                    timeout=CONNECT_TIMEOUT_S,
                )
        return self._driver_pool

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        if self._driver_pool is not None:
            pool, self._driver_pool = self._driver_pool, None
            await pool.close()
        await self.engine.dispose()
