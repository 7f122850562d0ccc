"""Test databases: a migrated SQLite file copied per test, or a migrated PostgreSQL emptied per test.

The schema always comes from `alembic upgrade head`, never from metadata.create_all, so the
tests exercise the migrations that production runs.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]  # no stubs published
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from migrations.metadata import target_metadata
from migrations.runner import upgrade
from service.db import Database, create_engine

BACKENDS = ("sqlite", "postgresql")


@asynccontextmanager
async def wide_database(db_url: str, *, connections: int) -> AsyncIterator[Database]:
    """A Database whose pool lets `connections` transactions be open at once (PostgreSQL)."""
    assert db_url.startswith("postgresql"), "row locks and concurrent transactions are under test"
    engine = create_async_engine(db_url, pool_size=connections + 5, max_overflow=0)
    try:
        yield Database(engine)
    finally:
        await engine.dispose()


def postgres_required() -> bool:
    """In CI a PostgreSQL test that would skip must fail instead."""
    return os.environ.get("GOODLOOP_REQUIRE_POSTGRES") == "1" or os.environ.get("CI", "").lower() == "true"


def postgres_url_or_skip() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    message = (
        "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql+asyncpg://user:pw@127.0.0.1/goodloop_test)"
    )
    if postgres_required():
        pytest.fail(message + "; CI requires them", pytrace=False)
    pytest.skip(message)


def migrate(url: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def truncate_postgres(url: str) -> None:
    """Empty every table, as `TRUNCATE <all> RESTART IDENTITY CASCADE` would (the schema has no
    sequences), at a fraction of its cost.

    TRUNCATE makes new files for each table and its indexes, ~0.15 s for the whole schema on
    every PostgreSQL test, while a test fills a handful of tables with a few rows. So only the
    tables holding rows are emptied: with DELETE, children first, except the tables whose
    triggers refuse DELETE (the append-only audit log and ledger), which TRUNCATE empties
    without firing row triggers.

    Two round trips on a connection kept open for the session (`_Resetter`): a new engine per
    test spent more on connecting (~16 ms) and asking for the triggers than on the emptying.
    """
    _RESETTER.run(url, _empty)


async def _empty(conn: asyncpg.Connection, triggered: frozenset[str]) -> None:
    filled = {row[0] for row in await conn.fetch(_FILLED_TABLES)}
    if not filled:
        return
    truncated = _truncate_only(triggered & filled)
    statements = [f"TRUNCATE {', '.join(map(_quoted, truncated))}"] if truncated else []
    statements += [
        _DELETE[table.name]
        for table in reversed(target_metadata.sorted_tables)
        if table.name in filled and table.name not in truncated
    ]
    # One simple-protocol message: PostgreSQL runs its statements as a single transaction.
    await conn.execute(";\n".join(statements))


def _quoted(name: str) -> str:
    return f'"{name}"'


def _sql(statement: sa.ClauseElement) -> str:
    dialect: sa.Dialect = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


# One round trip names the tables that hold at least one row.
_FILLED_TABLES = _sql(
    sa.union_all(
        *(
            sa.select(sa.literal(table.name, sa.String())).where(
                sa.exists(sa.select(sa.literal(1)).select_from(table))
            )
            for table in target_metadata.sorted_tables
        )
    )
)
_DELETE = {table.name: _sql(sa.delete(table)) for table in target_metadata.sorted_tables}

# Tables carrying triggers of our own (not the ones PostgreSQL makes for foreign keys).
_TRIGGERED_TABLES = "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"

RESET_APPLICATION_NAME = "goodloop-test-reset"
"""The resetting connection's name in pg_stat_activity: it runs between tests, never in one."""


class _Resetter:
    """One asyncpg connection per test database, open for the session, on a thread with an event
    loop of its own: callers are plain fixtures (no loop running) or Playwright's thread (whose
    loop runs), and an asyncpg connection belongs to the loop that opened it."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._connections: dict[str, asyncpg.Connection] = {}
        self._triggered: dict[str, frozenset[str]] = {}

    def run(self, url: str, work: Callable[[asyncpg.Connection, frozenset[str]], Awaitable[None]]) -> None:
        asyncio.run_coroutine_threadsafe(self._run(url, work), self._running_loop()).result()

    def close(self, url: str) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._close(url), self._loop).result()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="postgres-reset", daemon=True).start()
                self._loop = loop
            return self._loop

    async def _run(
        self, url: str, work: Callable[[asyncpg.Connection, frozenset[str]], Awaitable[None]]
    ) -> None:
        conn = self._connections.get(url)
        if conn is not None and not conn.is_closed():
            try:
                await work(conn, self._triggered[url])
                return
            except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, ConnectionError, OSError):
                pass  # ended by a test (pg_terminate_backend): once more on a new connection
        await self._close(url)
        conn = await asyncpg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
            server_settings={"application_name": RESET_APPLICATION_NAME},
        )
        self._connections[url] = conn
        self._triggered[url] = frozenset(row[0].strip('"') for row in await conn.fetch(_TRIGGERED_TABLES))
        await work(conn, self._triggered[url])

    async def _close(self, url: str) -> None:
        conn = self._connections.pop(url, None)
        if conn is not None and not conn.is_closed():
            conn.terminate()


_RESETTER = _Resetter()


def _truncate_only(triggered: frozenset[str]) -> list[str]:
    """These triggered tables plus every table referencing them, filled or not: TRUNCATE refuses
    a table that another one references unless that one is truncated in the same statement."""
    names = set(triggered)
    grew = True
    while grew:
        referencing = {
            table.name
            for table in target_metadata.sorted_tables
            if any(fk.column.table.name in names for fk in table.foreign_keys)
        }
        grew = not referencing <= names
        names |= referencing
    return sorted(names)


def copy_sqlite_template(template: Path, directory: Path) -> str:
    target = directory / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


def remove_sqlite(url: str) -> None:
    """Delete a SQLite database with its write-ahead log and shared-memory files."""
    path = Path(make_url(url).database or "")
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


@contextmanager
def memory_directory() -> Iterator[Path | None]:
    """A directory of this process's own in /dev/shm (tmpfs), removed afterwards; None where
    the machine has none (not Linux)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="goodloop-tests-", dir=shm))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def fresh_postgres_database(url: str) -> tuple[str, str]:
    """Create an empty database beside the test database; returns (url, name) for dropping.

    Unique per call, so parallel runs and pytest-xdist's workers never share one; the worker's
    name (gw0, gw1 ...) is in it to tell whose a leftover database was."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = f"goodloop_t_{worker + '_' if worker else ''}{uuid.uuid4().hex[:12]}"
    _outside_transaction(url, f'CREATE DATABASE "{name}"')
    # A commit then returns without waiting for its WAL flush (~5 ms on a disk that syncs, of
    # which the suite makes thousands). Other sessions see committed rows at once all the same;
    # only a server crash could lose the last ones, and nobody needs a test database back.
    _outside_transaction(url, f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres_database(url: str, name: str) -> None:
    _RESETTER.close(make_url(url).set(database=name).render_as_string(hide_password=False))
    # FORCE ends the sessions still on it. An autovacuum worker busy there can only be ended by
    # a superuser or a member of pg_signal_backend (.ci/run grants it); any other role waits a
    # moment for autovacuum to finish instead of failing the last test of the session.
    for attempt in range(20):
        try:
            _outside_transaction(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except sa.exc.ProgrammingError as e:
            if "pg_signal_backend" not in str(e) or attempt == 19:
                raise
            time.sleep(0.5)


def _outside_transaction(url: str, statement: str) -> None:
    """CREATE/DROP DATABASE refuse to run inside a transaction block."""

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(sa.text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())
