"""The in-memory recorder: dedupe per visitor and day, a bounded seen set, flushes that lose nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from campaigns.engagement.models import Metric
from campaigns.engagement.recorder import EngagementRecorder
from service.db import Database
from tests.campaigns.engagement.helpers import BROWSER

SECRET = "engagement-test-secret"
DAY = date(2026, 11, 28)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 23, 59, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def view(recorder: EngagementRecorder, address: str, slug: str = "coats") -> bool:
    return recorder.record_view(slug, address=address, user_agent=BROWSER)


class TestRecordView:
    def test_a_visitor_counts_once_per_campaign(self) -> None:
        recorder = EngagementRecorder(SECRET, clock=Clock())

        counted = [
            view(recorder, "198.51.100.1"),
            view(recorder, "198.51.100.1"),
            view(recorder, "198.51.100.1", "soup"),
        ]

        assert counted == [True, False, True]
        assert recorder.pending() == {("coats", DAY, Metric.VIEW): 1, ("soup", DAY, Metric.VIEW): 1}

    def test_the_next_utc_day_counts_the_visitor_again(self) -> None:
        clock = Clock()
        recorder = EngagementRecorder(SECRET, clock=clock)
        view(recorder, "198.51.100.1")

        clock.now += timedelta(minutes=2)

        assert view(recorder, "198.51.100.1") is True
        assert recorder.pending()[("coats", DAY + timedelta(days=1), Metric.VIEW)] == 1

    def test_the_seen_set_is_bounded(self) -> None:
        recorder = EngagementRecorder(SECRET, max_seen=2, clock=Clock())
        for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
            view(recorder, address)

        # Cleared when full: the first visitor is forgotten, the bound holds.
        assert view(recorder, "198.51.100.1") is True
        assert recorder.pending() == {("coats", DAY, Metric.VIEW): 4}

    def test_no_raw_address_or_user_agent_is_kept(self) -> None:
        recorder = EngagementRecorder(SECRET, clock=Clock())
        view(recorder, "198.51.100.77")

        kept = repr(vars(recorder))

        assert "198.51.100.77" not in kept
        assert "X11" not in kept

    def test_bots_are_not_counted(self) -> None:
        recorder = EngagementRecorder(SECRET, clock=Clock())

        counted = recorder.record_view("coats", address="198.51.100.1", user_agent="Googlebot/2.1")

        assert counted is False
        assert recorder.pending() == {}


class TestFlush:
    async def test_a_failed_flush_keeps_the_counts_for_the_next(self, tmp_path: Path) -> None:
        recorder = EngagementRecorder(SECRET, clock=Clock())
        view(recorder, "198.51.100.1")
        recorder.record_checkout_started("coats")
        unmigrated = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/unmigrated.db")

        try:
            with pytest.raises(OperationalError):
                await recorder.flush(unmigrated)
        finally:
            await unmigrated.dispose()

        assert recorder.pending() == {
            ("coats", DAY, Metric.VIEW): 1,
            ("coats", DAY, Metric.CHECKOUT_STARTED): 1,
        }

    async def test_nothing_pending_touches_no_database(self, tmp_path: Path) -> None:
        recorder = EngagementRecorder(SECRET, clock=Clock())
        unmigrated = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/unmigrated.db")

        try:
            written = await recorder.flush(unmigrated)
        finally:
            await unmigrated.dispose()

        assert written == 0
