from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from service import ratelimit
from service.db import Database, utcnow
from service.worker import Job, Worker, purge_rate_limits


class TestWorker:
    async def test_a_failing_job_does_not_stop_the_others(self, database: Database) -> None:
        ran: list[str] = []

        async def broken(_: Database) -> int:
            raise RuntimeError("boom")

        async def healthy(_: Database) -> int:
            ran.append("healthy")
            return 1

        worker = Worker(
            database, [Job("broken", broken, timedelta(0)), Job("healthy", healthy, timedelta(0))]
        )

        done = await worker.run_once()

        assert done == 1
        assert ran == ["healthy"]

    async def test_idle_job_waits_for_its_interval(self, database: Database) -> None:
        calls: list[int] = []

        async def idle(_: Database) -> int:
            calls.append(1)
            return 0

        worker = Worker(database, [Job("idle", idle, timedelta(minutes=5))])

        await worker.run_once()
        await worker.run_once()

        assert len(calls) == 1


class TestRateLimitHousekeeping:
    async def test_purge_removes_only_old_windows(self, database: Database) -> None:
        async with database.transaction() as session:
            session.add(
                ratelimit.RateLimitWindow(key_digest="old", window_start=utcnow() - timedelta(days=2), hits=3)
            )
            session.add(ratelimit.RateLimitWindow(key_digest="new", window_start=utcnow(), hits=1))

        removed = await purge_rate_limits(database)

        async with database.transaction() as session:
            left = (await session.scalars(sa.select(ratelimit.RateLimitWindow.key_digest))).all()
        assert removed == 1
        assert left == ["new"]
