"""How a lower domain package makes a higher one act without importing it.

The domain packages form one order (pyproject's `[tool.importlinter]`, docs/architecture.md):
a package imports only packages below it. When a lower package must still make a higher one
act (a settled donation must reserve its match; the engine clawing back a paid match needs the
payouts outbox), it states what it needs as a `Protocol` and declares a `Plug` for it. The
higher package's module is plugged in by `campaigns.wiring.wire()`, which every edge calls
before it runs domain code: the app factory, the worker, the CLI, the simulator and the tests.

A plug nobody filled raises `NotWired` when used, so a forgotten registration stops the unit
of work (it rolls back) instead of silently dropping the effect.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class NotWired(RuntimeError):
    """A lower package asked for a higher one that start-up never plugged in."""


class Plug(Generic[T]):
    """One implementation, by a higher package, of what a lower package needs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._implementation: T | None = None

    def plug(self, implementation: T) -> None:
        # Plugging the same thing again is harmless (every edge calls wire()); a second,
        # different implementation would mean two start-ups disagree about who acts.
        if self._implementation is not None and self._implementation is not implementation:
            raise RuntimeError(f"{self.name} is already plugged into {self._implementation!r}")
        self._implementation = implementation

    @property
    def plugged(self) -> bool:
        return self._implementation is not None

    def __call__(self) -> T:
        if self._implementation is None:
            raise NotWired(f"{self.name} is not wired: call campaigns.wiring.wire() at start-up")
        return self._implementation
