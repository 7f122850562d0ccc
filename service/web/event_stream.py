"""A Server-Sent Events response fed by one live subscription.

The stream ends when the client goes away, promptly: a task watches for the disconnect
message while another writes, instead of noticing only at the next write (up to a heartbeat
later). Either way the subscription is released in `finally`, so a closed tab leaves nothing
behind. Heartbeats are SSE comment lines, which keep proxies from closing an idle stream and
tell the server soon that a silent client is gone.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from service.live import Event, LiveBroker, Subscription, events_text

RETRY_MS = 5000
"""How long a browser waits before reconnecting a dropped stream (the `retry:` hint)."""
STREAM_HEADERS = {
    "Cache-Control": "no-store",
    # nginx and similar proxies would otherwise buffer the stream and deliver it in lumps.
    "X-Accel-Buffering": "no",
}


class EventStream(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        broker: LiveBroker,
        subscription: Subscription,
        *,
        first: list[Event],
        heartbeat_s: float,
    ) -> None:
        self.status_code = 200
        self.background = None
        self.init_headers(STREAM_HEADERS)
        self._broker = broker
        self._subscription = subscription
        self._first = first
        self._heartbeat_s = heartbeat_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            writer = asyncio.create_task(self._write(send))
            watcher = asyncio.create_task(_disconnected(receive))
            try:
                done, _ = await asyncio.wait({writer, watcher}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (writer, watcher):
                    task.cancel()
                for task in (writer, watcher):
                    with contextlib.suppress(asyncio.CancelledError, OSError):
                        await task
            if writer not in done:
                return  # the client went away
            failure = writer.exception()
            if failure is None:
                # The broker closed the stream (shutdown): end the response properly.
                with contextlib.suppress(OSError):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            elif not isinstance(failure, OSError):  # OSError: the client went away mid-write
                raise failure
        finally:
            self._broker.unsubscribe(self._subscription)

    async def _write(self, send: Send) -> None:
        opening = f"retry: {RETRY_MS}\n\n".encode() + events_text(self._first)
        await send({"type": "http.response.body", "body": opening, "more_body": True})
        while True:
            events = await self._subscription.next_events(wait_s=self._heartbeat_s)
            if events is None:
                return
            body = events_text(events) if events else b": heartbeat\n\n"
            await send({"type": "http.response.body", "body": body, "more_body": True})


async def _disconnected(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
