"""A tiny in-process cache for hot public pages, with single-flight rendering.

A viral campaign page is the same for every visitor for a few seconds at a time. Keeping the
rendered bytes for `ttl_s` turns a spike of thousands of views into one render and one
database read per process per interval, and single flight stops a cold key from stampeding
the database. Everything that must be exact (checkout validation, totals in the ledger)
reads the database itself; only what people look at may be `ttl_s` old.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    status_code: int
    headers: tuple[tuple[str, str], ...]

    @cached_property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as an ASGI response sends them, encoded once per cached page."""
        return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers]


class MicroCache:
    def __init__(self, ttl_s: float, *, max_entries: int = 2048) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, CachedPage]] = OrderedDict()
        self._inflight: dict[Hashable, asyncio.Future[CachedPage]] = {}

    async def get_or_render(self, key: Hashable, render: Callable[[], Awaitable[CachedPage]]) -> CachedPage:
        if self.ttl_s <= 0:
            return await render()
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[CachedPage] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            page = await render()
        except BaseException as e:
            future.set_exception(e)
            # Nobody may be waiting; retrieving the exception keeps asyncio from warning.
            future.exception()
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(page)
        if page.status_code == 200:
            self._store(key, page, now)
        return page

    def _store(self, key: Hashable, page: CachedPage, now: float) -> None:
        self._entries[key] = (now + self.ttl_s, page)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
