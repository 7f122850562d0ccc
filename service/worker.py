"""The background worker: runs registered jobs in a loop, in `goodloop worker` or inside serve.

Each job is one edge: it opens its own transactions and returns how much it did, so the loop
can sleep when there is nothing to do and go again at once when there is. Later capabilities
(webhook processing, the Stripe outbox) register jobs here; PostgreSQL row locks with SKIP
LOCKED let any number of workers share them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from service import ratelimit
from service.auth import sessions
from service.db import Database, retrying
from service.logging import get_logger
from service.metrics import WORKER_JOB_RUNS
from service.outage import is_database_unavailable

log = get_logger("goodloop.worker")

JobFn = Callable[[Database], Awaitable[int]]


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFn
    every: timedelta
    """Minimum time between runs when the job found nothing to do."""


async def purge_rate_limits(database: Database) -> int:
    async with database.transaction() as session:
        return await ratelimit.purge_expired(session)


async def purge_sessions(database: Database) -> int:
    # Expired sign-in rows open nothing; they are kept a day past expiry, then dropped.
    async with database.transaction() as session:
        return await sessions.purge_expired_sessions(session, now=session.now())


CORE_JOBS: tuple[Job, ...] = (
    Job("purge_rate_limits", purge_rate_limits, timedelta(minutes=10)),
    Job("purge_sessions", purge_sessions, timedelta(hours=1)),
)


class Worker:
    def __init__(self, database: Database, jobs: Sequence[Job], *, idle_sleep_s: float = 1.0) -> None:
        self.database = database
        self.jobs = tuple(jobs)
        self.idle_sleep_s = idle_sleep_s
        self._stopping = asyncio.Event()
        self._next_due: dict[str, float] = {}

    def stop(self) -> None:
        self._stopping.set()

    async def run_once(self) -> int:
        """Run every due job once; returns the total amount of work done."""
        loop = asyncio.get_running_loop()
        done = 0
        for job in self.jobs:
            if self._next_due.get(job.name, 0.0) > loop.time():
                continue
            count = await self._run_job(job)
            if count == 0:
                self._next_due[job.name] = loop.time() + job.every.total_seconds()
            done += count
        return done

    async def run_forever(self) -> None:
        log.info("worker started", jobs=[job.name for job in self.jobs])
        while not self._stopping.is_set():
            done = await self.run_once()
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.idle_sleep_s)
        log.info("worker stopped")

    async def _run_job(self, job: Job) -> int:
        try:
            # A job is one edge: on a deadlock or serialization failure it runs again from the
            # start, with fresh sessions (docs/architecture.md, "Transactions and retries").
            count = await retrying(lambda: job.run(self.database), name=job.name)
        except Exception as e:
            WORKER_JOB_RUNS.labels(job.name, "error").inc()
            if is_database_unavailable(e):
                # An outage, not a bug: a line, not a traceback per job per second (rendering
                # those stalls the loop the web requests share); the pool reconnects by itself.
                log.warning("worker job waits for the database", job=job.name, error=type(e).__name__)
            else:
                log.exception("worker job failed", job=job.name)
            return 0
        WORKER_JOB_RUNS.labels(job.name, "ok").inc()
        return count
