"""PostgreSQL: a unit of work aborted for a deadlock or a serialization failure runs again whole,
a bounded number of times, and then gives up with a 503 that says when to come back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.exc import IntegrityError

from service.db import UNIT_ATTEMPTS, Database, DatabaseBusy, retrying
from service.web.api import error_response

BUMP = sa.text("UPDATE retry_probe SET n = n + 1 WHERE id = :row")
ON_POSTGRES = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.fixture
async def probe(database: Database) -> AsyncIterator[Database]:
    """Two rows to fight over, in a table of the test's own."""
    async with database.transaction() as session:
        await session.execute(sa.text("DROP TABLE IF EXISTS retry_probe"))
        await session.execute(sa.text("CREATE TABLE retry_probe (id int PRIMARY KEY, n int NOT NULL)"))
        await session.execute(sa.text("INSERT INTO retry_probe VALUES (1, 0), (2, 0)"))
    yield database
    async with database.transaction() as session:
        await session.execute(sa.text("DROP TABLE retry_probe"))


def retried(unit: str, reason: str) -> float:
    value = REGISTRY.get_sample_value("goodloop_db_retries_total", {"unit": unit, "reason": reason})
    return value or 0.0


async def value_of(database: Database, row: int) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(sa.text("SELECT n FROM retry_probe WHERE id = :row"), {"row": row}))


class RacedUnit:
    """A REPEATABLE READ unit that reads row 1, then (while it loses) sees another transaction
    commit a change to that row before its own UPDATE: PostgreSQL aborts it with 40001."""

    def __init__(self, database: Database, *, loses: int) -> None:
        self.database = database
        self.loses = loses
        self.tries = 0

    async def __call__(self) -> int:
        self.tries += 1
        async with self.database.transaction() as session:
            await session.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            await session.execute(sa.text("SELECT n FROM retry_probe WHERE id = 1"))
            if self.tries <= self.loses:
                async with self.database.transaction() as rival:
                    await rival.execute(sa.text("UPDATE retry_probe SET n = n + 1 WHERE id = 1"))
            await session.execute(sa.text("UPDATE retry_probe SET n = n + 100 WHERE id = 1"))
        return self.tries


@ON_POSTGRES
class TestRetrying:
    async def test_a_unit_that_lost_a_race_runs_again_from_the_start_and_commits(
        self, probe: Database
    ) -> None:
        before = retried("raced", "serialization_failure")
        unit = RacedUnit(probe, loses=2)

        assert await retrying(unit, name="raced") == 3

        # Two rivals' +1 and one +100: the aborted tries left nothing behind.
        assert await value_of(probe, 1) == 102
        assert retried("raced", "serialization_failure") == before + 2

    async def test_a_unit_that_keeps_losing_gives_up_with_a_503_and_retry_after(
        self, probe: Database
    ) -> None:
        unit = RacedUnit(probe, loses=UNIT_ATTEMPTS + 10)

        with pytest.raises(DatabaseBusy) as raised:
            await retrying(unit, name="raced_forever")

        assert unit.tries == UNIT_ATTEMPTS
        assert await value_of(probe, 1) == UNIT_ATTEMPTS  # only the rivals' commits
        response = error_response(raised.value)
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert json.loads(bytes(response.body))["error"] == "database_busy"

    async def test_two_units_that_deadlock_both_commit(self, probe: Database) -> None:
        """Each locks one row and then wants the other's: PostgreSQL aborts one (40P01), which
        runs again after the other committed."""
        before = retried("deadlocking", "deadlock")
        both_hold_one = asyncio.Barrier(2)

        def unit(first: int, second: int) -> Callable[[], Awaitable[int]]:
            tries = 0

            async def run() -> int:
                nonlocal tries
                tries += 1
                async with probe.transaction() as session:
                    await session.execute(BUMP, {"row": first})
                    if tries == 1:
                        await both_hold_one.wait()
                    await session.execute(BUMP, {"row": second})
                return tries

            return run

        tries = await asyncio.gather(
            retrying(unit(1, 2), name="deadlocking"),
            retrying(unit(2, 1), name="deadlocking"),
        )

        assert sorted(tries) == [1, 2]
        assert (await value_of(probe, 1), await value_of(probe, 2)) == (2, 2)
        assert retried("deadlocking", "deadlock") == before + 1

    async def test_other_errors_are_not_retried(self, probe: Database) -> None:
        tries = 0

        async def duplicate() -> None:
            nonlocal tries
            tries += 1
            async with probe.transaction() as session:
                await session.execute(sa.text("INSERT INTO retry_probe VALUES (1, 0)"))

        with pytest.raises(IntegrityError):
            await retrying(duplicate, name="duplicate")
        assert tries == 1
