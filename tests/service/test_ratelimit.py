"""Database rate limits: a sliding window, so a burst across a window boundary is still one burst."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service import ratelimit
from service.db import Database
from service.errors import RateLimited

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
