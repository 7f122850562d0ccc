"""An outage is told apart from a bug: the first is a 503 to retry, the second stays a 500."""

from __future__ import annotations

import sqlite3

import asyncpg  # type: ignore[import-untyped]  # no stubs published
import pytest
from sqlalchemy import exc as sa_exc

from service.outage import is_database_unavailable


def wrapped(driver_error: Exception, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    """What SQLAlchemy raises around a driver's error."""
    error = sa_exc.DBAPIError("SELECT 1", {}, driver_error, connection_invalidated=invalidated)
    error.__cause__ = driver_error
    return error


class TestIsDatabaseUnavailable:
    @pytest.mark.parametrize(
        "error",
        [
            ConnectionRefusedError(111, "Connect call failed"),
            TimeoutError(),
            asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
            asyncpg.CannotConnectNowError("the database system is starting up"),
            asyncpg.TooManyConnectionsError("sorry, too many clients already"),
            asyncpg.AdminShutdownError("terminating connection due to administrator command"),
            sa_exc.TimeoutError("QueuePool limit of size 20 overflow 10 reached"),
            wrapped(asyncpg.InterfaceError("connection is closed")),
            wrapped(RuntimeError("anything"), invalidated=True),
            wrapped(sqlite3.OperationalError("database is locked")),
        ],
        ids=repr,
    )
    def test_an_outage_is_recognised_through_its_wrappers(self, error: Exception) -> None:
        assert is_database_unavailable(error)
        assert is_database_unavailable(wrapped(error))

    @pytest.mark.parametrize(
        "error",
        [
            wrapped(asyncpg.UniqueViolationError("duplicate key value")),
            wrapped(asyncpg.UndefinedTableError('relation "nope" does not exist')),
            wrapped(sqlite3.OperationalError("no such table: nope")),
            ValueError("a bug"),
            KeyError("a bug"),
        ],
        ids=repr,
    )
    def test_a_bug_is_not_an_outage(self, error: BaseException) -> None:
        assert not is_database_unavailable(error)

    def test_an_error_raised_while_handling_an_outage_counts_as_one(self) -> None:
        try:
            try:
                raise ConnectionResetError(104, "reset by peer")
            except ConnectionResetError:
                raise RuntimeError("rollback failed") from None
        except RuntimeError as e:
            suppressed = e
        try:
            try:
                raise ConnectionResetError(104, "reset by peer")
            except ConnectionResetError:
                raise RuntimeError("rollback failed")  # noqa: B904 - the implicit chain is the point
        except RuntimeError as e:
            chained = e

        # "from None" says the outage is not the story; an implicit chain says it is.
        assert not is_database_unavailable(suppressed)
        assert is_database_unavailable(chained)
