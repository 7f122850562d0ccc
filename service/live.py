"""Live events: published inside a unit of work, fanned out in memory to open pages.

One process, one subscription: on PostgreSQL a single dedicated asyncpg connection per process
LISTENs on `CHANNEL`, however many pages are open, and each notification is handed to every
subscriber of its topic in memory. Publishing is `SELECT pg_notify(...)` inside the publishing
transaction, so PostgreSQL delivers it only if that transaction commits (a rolled-back or
crashed webhook batch publishes nothing) and to every process, the worker's commits included.
On SQLite (one process: `goodloop serve` runs the worker in-process) the message goes to this
process's brokers of the same database once the unit committed.

A message is small JSON (`MAX_PAYLOAD_BYTES`, under PostgreSQL's 8000-byte limit) about one
topic: `latest` events replace what a subscriber has not read yet (a slow page gets only the
newest progress), `queued` events are kept in a bounded queue per subscriber (the oldest are
dropped first). Nothing ever waits on a subscriber, so one slow page never holds up the others.
If the LISTEN connection drops, the broker reconnects with backoff and then sends each topic's
current state again (`Resync`), so a page misses nothing that matters across the gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs published
import sqlalchemy as sa

from service.logging import get_logger
from service.unit_of_work import UnitOfWork

log = get_logger("goodloop.live")

CHANNEL = "goodloop_live"
MAX_PAYLOAD_BYTES = 7900
"""PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; stay under it with room to spare."""
QUEUE_LIMIT = 20
"""Queued events (supporters) a subscriber keeps unread before the oldest are dropped."""
KEEPALIVE_S = 30.0
"""How often the LISTEN connection is pinged: a connection that died silently is found."""
RECONNECT_MAX_S = 30.0
APPLICATION_NAME = "goodloop-live"
"""How the LISTEN connection shows in pg_stat_activity."""

Event = tuple[str, dict[str, Any]]
"""(event name, data)"""


@dataclass(frozen=True)
class Message:
    """What one notification says about one topic."""

    topic: str
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Events of which only the newest matters (progress), by event name."""
    queued: tuple[Event, ...] = ()
    """Events each of which matters (a new supporter), oldest first."""

    def encode(self) -> str:
        """JSON within MAX_PAYLOAD_BYTES: the oldest queued events are left out if needed."""
        queued = list(self.queued)
        while True:
            payload = json.dumps(
                {"t": self.topic, "l": self.latest, "q": [list(e) for e in queued]},
                separators=(",", ":"),
                ensure_ascii=False,
            )
            if len(payload.encode()) <= MAX_PAYLOAD_BYTES:
                return payload
            if not queued:
                raise ValueError(f"a live message about {self.topic!r} does not fit a notification")
            queued.pop(0)

    @classmethod
    def decode(cls, payload: str) -> Message | None:
        try:
            raw = json.loads(payload)
            return cls(
                topic=str(raw["t"]),
                latest={str(k): dict(v) for k, v in raw.get("l", {}).items()},
                queued=tuple((str(name), dict(data)) for name, data in raw.get("q", [])),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("live notification ignored: not a message", payload=payload[:200])
            return None


async def publish(session: UnitOfWork, message: Message) -> None:
    """Send `message` to every open page of its topic, if and when this unit commits."""
    payload = message.encode()
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Inside the transaction: PostgreSQL delivers it on commit and drops it on rollback.
        await session.execute(
            sa.text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
        )
        return
    key = database_key(bind.engine.url)
    session.after_commit(lambda: _deliver_in_process(key, payload))


def database_key(url: sa.URL) -> str:
    """Which database a broker follows: in-process delivery reaches only brokers of the same one."""
    return url.render_as_string(hide_password=True)


# SQLite: the brokers of this process, by database. Lock: a test may commit from another thread.
_IN_PROCESS: dict[str, set[LiveBroker]] = {}
_IN_PROCESS_LOCK = threading.Lock()


def _deliver_in_process(key: str, payload: str) -> None:
    with _IN_PROCESS_LOCK:
        brokers = list(_IN_PROCESS.get(key, ()))
    for broker in brokers:
        broker.deliver(payload)


class Subscription:
    """One open page's mailbox: the newest `latest` events and a bounded queue of the others."""

    def __init__(self, topic: str, *, queue_limit: int = QUEUE_LIMIT) -> None:
        self.topic = topic
        self._latest: dict[str, dict[str, Any]] = {}
        self._queued: deque[Event] = deque(maxlen=queue_limit)
        self._ready = asyncio.Event()
        self.closed = False
        self.dropped = 0
        """Queued events this subscriber lost because it read too slowly."""

    def offer(self, message: Message) -> None:
        """Never blocks: replaces unread `latest` events, drops the oldest queued ones."""
        for event in message.queued:
            if len(self._queued) == self._queued.maxlen:
                self.dropped += 1
            self._queued.append(event)
        self._latest.update(message.latest)
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def next_events(self, *, wait_s: float) -> list[Event] | None:
        """What arrived since the last read (queued first, then the latest ones); [] after
        `wait_s` seconds with nothing (time for a heartbeat); None once closed."""
        if not self._ready.is_set() and not self.closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), wait_s)
        if self.closed:
            return None
        self._ready.clear()
        events: list[Event] = list(self._queued)
        events.extend(self._latest.items())
        self._queued.clear()
        self._latest = {}
        return events


class TooManySubscribers(Exception):
    """This process already serves its maximum of open live pages."""


Resync = Callable[[str], Awaitable[Message | None]]
"""A topic's current state, read from the database (sent again after a reconnect)."""


class LiveBroker:
    """This process's subscribers and its one subscription to the database's notifications.

    Created per app (service.app's lifespan closes it). The LISTEN connection opens with the
    first subscriber (`ready()` waits for it), so a process nobody watches holds none.
    """

    def __init__(
        self,
        database_url: sa.URL,
        *,
        max_subscribers: int,
        resync: Resync | None = None,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        self._url = database_url
        self._postgresql = database_url.get_backend_name() == "postgresql"
        self.max_subscribers = max_subscribers
        self.resync = resync
        self._queue_limit = queue_limit
        self._topics: dict[str, set[Subscription]] = {}
        self._count = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self.reconnects = 0
        self._closed = False

    @property
    def subscriber_count(self) -> int:
        return self._count

    def subscribe(self, topic: str) -> Subscription:
        if self._closed:
            raise TooManySubscribers("the live broker is shutting down")
        if self._count >= self.max_subscribers:
            raise TooManySubscribers(f"{self._count} live pages open, the most this process serves")
        self._start()
        subscription = Subscription(topic, queue_limit=self._queue_limit)
        self._topics.setdefault(topic, set()).add(subscription)
        self._count += 1
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._topics.get(subscription.topic)
        if subscribers is None or subscription not in subscribers:
            return
        subscribers.discard(subscription)
        self._count -= 1
        if not subscribers:
            del self._topics[subscription.topic]
        subscription.close()

    async def ready(self, *, wait_s: float = 10.0) -> bool:
        """Whether notifications are being received (PostgreSQL: LISTEN is in place), waiting
        up to `wait_s`. A page subscribes, then waits for this, then reads the current state:
        nothing committed after that read can miss it."""
        if not self._postgresql:
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait_s)
        return self._listening.is_set()

    def deliver(self, payload: str) -> None:
        """Fan one notification out to its topic's subscribers (from any thread)."""
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
                loop.call_soon_threadsafe(self.deliver, payload)
            return
        message = Message.decode(payload)
        if message is not None:
            self.fan_out(message)

    def fan_out(self, message: Message) -> None:
        for subscription in tuple(self._topics.get(message.topic, ())):
            subscription.offer(message)

    def _start(self) -> None:
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        if self._postgresql:
            self._listener = asyncio.create_task(self._listen_forever(), name="goodloop-live-listen")
        else:
            with _IN_PROCESS_LOCK:
                _IN_PROCESS.setdefault(database_key(self._url), set()).add(self)

    async def aclose(self) -> None:
        """Stop listening and end every open stream (their pages reconnect elsewhere)."""
        self._closed = True
        with _IN_PROCESS_LOCK:
            brokers = _IN_PROCESS.get(database_key(self._url))
            if brokers is not None:
                brokers.discard(self)
                if not brokers:
                    del _IN_PROCESS[database_key(self._url)]
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        for subscribers in list(self._topics.values()):
            for subscription in list(subscribers):
                self.unsubscribe(subscription)

    async def _listen_forever(self) -> None:
        dsn = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        failures = 0
        first = True
        while True:
            try:
                await self._listen_once(dsn, resync=not first)
                failures = 0
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                failures += 1
                log.warning("live notifications interrupted", error=str(e), attempt=failures)
            self._listening.clear()
            first = False
            self.reconnects += 1
            await asyncio.sleep(reconnect_delay_s(failures))

    async def _listen_once(self, dsn: str, *, resync: bool) -> None:
        """Hold one LISTEN connection until it fails; returns or raises when it is gone."""
        connection: asyncpg.Connection = await asyncpg.connect(
            dsn, timeout=10, server_settings={"application_name": APPLICATION_NAME}
        )
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(CHANNEL, self._on_notification)
            self._listening.set()
            if resync:
                await self._resync_all()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), KEEPALIVE_S)
                if not lost.is_set():
                    await connection.fetchval("SELECT 1", timeout=10)
        finally:
            self._listening.clear()
            with contextlib.suppress(Exception):  # it may be half gone: closing must not fail
                await asyncio.wait_for(connection.close(), 5)

    def _on_notification(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        if isinstance(payload, str):
            self.deliver(payload)

    async def _resync_all(self) -> None:
        """After a gap in LISTEN, each watched topic's current state, read once per topic."""
        if self.resync is None:
            return
        for topic in list(self._topics):
            try:
                message = await self.resync(topic)
            except (OSError, sa.exc.SQLAlchemyError, asyncpg.PostgresError) as e:
                log.warning("live resync failed", topic=topic, error=str(e))
                continue
            if message is not None:
                self.fan_out(message)


def reconnect_delay_s(failures: int) -> float:
    """Growing, jittered pauses between reconnects: many processes do not reconnect in step."""
    base: float = min(RECONNECT_MAX_S, 0.25 * 2 ** min(failures, 8))
    return base * random.uniform(0.5, 1.0)


def events_text(events: Sequence[Event]) -> bytes:
    """Server-Sent Events wire format for these events."""
    return b"".join(event_text(name, data) for name, data in events)


def event_text(name: str, data: Mapping[str, Any]) -> bytes:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    # JSON escapes newlines inside strings, so the data is one line, as SSE requires.
    return f"event: {name}\ndata: {body}\n\n".encode()
