"""The one clock: every instant the domain writes or compares comes from here.

The edges that assemble the process (the app factory, the worker, the CLI, the simulator)
build one clock and hand it to the Database; each unit of work carries it (`uow.now()`), and
code outside a unit of work takes `now` as an argument. Domain code never asks the system
for the time, so a simulated season, a test and production run the same code on their own
time (docs/architecture.md, "Unit of work and clock").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    """Production's clock: the system's wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """A clock that stands still until told: the simulator moves it event by event, tests
    set it where a rule's window opens or closes."""

    def __init__(self, at: datetime) -> None:
        self.at = _aware(at)

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = _aware(at)

    def advance(self, by: timedelta) -> datetime:
        self.at += by
        return self.at


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a clock keeps timezone-aware instants")
    return at.astimezone(UTC)
