"""Database rate limits: a sliding window, so a burst across a window boundary is still one burst."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from service import ratelimit
from service.clock import SettableClock
from service.db import Database
from service.errors import RateLimited
from service.settings import Settings

LIMIT = ratelimit.Limit(name="test", max_hits=5, window=timedelta(minutes=1), message="slow down")
# A window boundary (minutes start on whole multiples of 60 s since the epoch).
BOUNDARY = datetime(2026, 12, 3, 18, 30, tzinfo=UTC)


async def attempt(database: Database, at: datetime, subject: str = "browser-1") -> int | None:
    """None when allowed, else the Retry-After the refusal carried."""
    try:
        async with database.transaction() as session:
            await ratelimit.hit(session, secret_key="k", limit=LIMIT, subject=subject, now=at)
    except RateLimited as e:
        return e.retry_after_s
    return None


class TestSlidingWindow:
    async def test_a_burst_across_a_window_boundary_is_still_refused(self, database: Database) -> None:
        for n in range(5):
            assert await attempt(database, BOUNDARY - timedelta(seconds=5 - n)) is None

        # A fixed window would start counting from zero here and let five more through.
        assert await attempt(database, BOUNDARY + timedelta(seconds=1)) is not None

    async def test_the_allowance_comes_back_once_the_burst_slid_out(self, database: Database) -> None:
        for n in range(5):
            assert await attempt(database, BOUNDARY + timedelta(seconds=n)) is None
        retry_after = await attempt(database, BOUNDARY + timedelta(seconds=10))
        assert retry_after is not None

        later = BOUNDARY + timedelta(seconds=10 + retry_after)
        assert await attempt(database, later) is None
        assert await attempt(database, BOUNDARY + timedelta(minutes=3)) is None

    async def test_subjects_do_not_share_an_allowance(self, database: Database) -> None:
        for n in range(5):
            assert await attempt(database, BOUNDARY + timedelta(seconds=n)) is None

        assert await attempt(database, BOUNDARY + timedelta(seconds=6), subject="browser-2") is None


class TestClock:
    async def test_windows_run_on_the_unit_of_works_clock(self, settings: Settings) -> None:
        # The database's clock, not the system's, decides the window: a burst at the clock's
        # instant is refused, and moving the clock past the window lets the subject in again.
        clock = SettableClock(BOUNDARY)
        database = Database.from_url(settings.database_url, clock=clock)
        try:
            for _ in range(5):
                assert await attempt_now(database) is None
            assert await attempt_now(database) is not None
            async with database.transaction() as session:
                starts = set(await session.scalars(sa.select(ratelimit.RateLimitWindow.window_start)))
            assert starts == {BOUNDARY}

            clock.advance(timedelta(minutes=3))
            assert await attempt_now(database) is None
        finally:
            await database.dispose()


async def attempt_now(database: Database) -> int | None:
    try:
        async with database.transaction() as session:
            await ratelimit.hit(session, secret_key="k", limit=LIMIT, subject="browser-1")
    except RateLimited as e:
        return e.retry_after_s
    return None
