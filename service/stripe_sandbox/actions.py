"""Run a state change atomically, deliver what it emitted, and schedule delayed settlements."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from service.logging import get_logger
from service.stripe_sandbox.errors import StripeApiError
from service.stripe_sandbox.objects import Obj
from service.stripe_sandbox.payments import settle_delayed_payment
from service.stripe_sandbox.state import SandboxState

log = get_logger("goodloop.stripe_sandbox")


async def perform(state: SandboxState, action: Callable[[], list[Obj]]) -> list[Obj]:
    """Run `action` under the state lock, then hand its events to delivery."""
    async with state.lock:
        events = action()
    state.deliverer.send(events)
    return events


def schedule_settlement(state: SandboxState, session_id: str) -> None:
    """A delayed payment settles by itself after `settle_after_s`, unless settled before."""
    delay = state.settle_after_s
    if delay is None:
        return
    succeed = state.settle_outcome == "succeed"

    async def settle_later() -> None:
        await asyncio.sleep(delay)
        try:
            await perform(state, lambda: settle_delayed_payment(state, session_id, succeed=succeed))
        except StripeApiError:
            # Settled (or failed) through the control endpoint meanwhile: nothing left to do.
            log.info("sandbox_settlement_skipped", session_id=session_id)

    task = asyncio.create_task(settle_later(), name=f"sandbox-settle-{session_id}")
    state.background.add(task)
    task.add_done_callback(state.background.discard)


async def cancel_background(state: SandboxState) -> None:
    for task in list(state.background):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
