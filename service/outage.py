"""Telling a database outage apart from a bug, for the web edge (503) and the worker (a warning).

An unreachable, restarting or saturated database is a condition that passes: the pool
reconnects by itself once the server is back, so callers hear "try again shortly" and the
logs get one line, not a traceback per request.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator

import asyncpg  # type: ignore[import-untyped]  # no stubs published; only its exception types are used
from sqlalchemy import exc as sa_exc

RETRY_AFTER_S = 30
"""What a 503 asks clients to wait before trying again."""

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08: the connection failed or went away
    asyncpg.CannotConnectNowError,  # the server is starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    sa_exc.TimeoutError,  # no pooled connection became free in time
    sa_exc.DisconnectionError,
    ConnectionError,  # refused, reset, aborted
    TimeoutError,  # a connect that got no answer
    socket.gaierror,  # the database host's name does not resolve
)
# SQLite's passing failures (another writer held the lock past the busy timeout, the file could
# not be opened); "no such table" and the like are bugs and stay 500s.
_SQLITE_TRANSIENT = ("locked", "busy", "unable to open", "disk i/o")


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error`, or what it was raised from, means the database cannot be reached now."""
    for cause in _chain(error):
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, _UNAVAILABLE):
            return True
        if isinstance(cause, asyncpg.InterfaceError) and "connection is closed" in str(cause):
            return True
        if isinstance(cause, sqlite3.OperationalError) and any(
            word in str(cause).lower() for word in _SQLITE_TRANSIENT
        ):
            return True
    return False


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and those behind it: SQLAlchemy wraps the driver's, which wraps the OS's."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
