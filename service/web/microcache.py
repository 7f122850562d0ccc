"""A tiny in-process cache for hot public pages, with single-flight rendering.

A viral campaign page is the same for every visitor for a few seconds at a time. Keeping the
rendered bytes for `ttl_s` turns a spike of thousands of views into one render and one
database read per process per interval, and single flight stops a cold key from stampeding
the database. Everything that must be exact (checkout validation, totals in the ledger)
reads the database itself; only what people look at may be `ttl_s` old.

A page still being asked for late in its life is rendered again in the background while the
current copy is served, so a hot page never expires under load: otherwise every visitor
arriving during the re-render (every connection, on a busy page) waits for it, once per
`ttl_s`, and that wait is the slowest percentile of the page's latency. A served copy is
still never older than `ttl_s`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, replace
from functools import cached_property

from starlette.responses import Response

from service.logging import get_logger
from service.web import compression
from service.web.middleware import with_security_headers

log = get_logger("goodloop.microcache")

# Fraction of the ttl after which a request for the page starts a background re-render.
REFRESH_AFTER = 0.75


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    status_code: int
    headers: tuple[tuple[str, str], ...]

    @cached_property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as an ASGI response sends them, encoded once per cached page."""
        return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers]

    @cached_property
    def response_headers(self) -> list[tuple[bytes, bytes]]:
        """All the headers Response(body, status_code) + raw_headers sends (Content-Length
        first, as Response writes it), built once per cached page; copy before appending."""
        return Response(self.body, status_code=self.status_code).raw_headers + self.raw_headers

    @cached_property
    def gzip_body(self) -> bytes | None:
        """The body gzip-compressed, once per cached page (service/web/compression.py), or None
        when the page is too small to be worth it. Pages whose bytes hold something of one
        visitor's must not be cached here at all, and so are never compressed (BREACH)."""
        return compression.compress(self.body) if compression.worth_compressing(self.body) else None

    @cached_property
    def gzip_response_headers(self) -> list[tuple[bytes, bytes]]:
        """response_headers for gzip_body: its Content-Length, then Content-Encoding, as
        pages.for_visitor writes them; copy before appending."""
        assert self.gzip_body is not None
        own = Response(self.gzip_body, status_code=self.status_code).raw_headers
        return [*own, compression.CONTENT_ENCODING, *self.raw_headers]

    def security_suffix(self, defaults: tuple[tuple[bytes, bytes], ...]) -> list[tuple[bytes, bytes]]:
        """What RequestContextMiddleware appends to response_headers (+ headers whose names are
        none of the security headers'): the defaults the page lacks, worked out once per page
        (service.web.middleware.with_security_headers); the same after gzip_response_headers,
        which differ from response_headers in no security header's name. Raises if the merge
        would rather drop one of the page's own headers (X-Frame-Options without a
        Content-Security-Policy)."""
        suffix = self._suffixes.get(defaults)
        if suffix is None:
            own = self.response_headers
            merged = with_security_headers(own, defaults)
            if merged[: len(own)] != own:
                raise ValueError("the security headers replace one of the page's own")
            suffix = self._suffixes[defaults] = merged[len(own) :]
        return suffix

    @cached_property
    def _suffixes(self) -> dict[tuple[tuple[bytes, bytes], ...], list[tuple[bytes, bytes]]]:
        return {}


@dataclass(frozen=True)
class _Entry:
    refresh_at: float
    expires_at: float
    page: CachedPage


Render = Callable[[], Awaitable[CachedPage]]


class MicroCache:
    def __init__(
        self, ttl_s: float, *, max_entries: int = 2048, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._inflight: dict[Hashable, asyncio.Future[CachedPage]] = {}
        self._refreshes: set[asyncio.Task[None]] = set()

    async def get_or_render(self, key: Hashable, render: Render) -> CachedPage:
        if self.ttl_s <= 0:
            return await render()
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit.expires_at > now:
            if hit.refresh_at <= now and key not in self._inflight:
                self._refresh_in_background(key, render)
            return hit.page
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        return await self._render(key, render, self._claim(key))

    def peek(self, key: Hashable) -> CachedPage | None:
        """The cached page if it can be served as is, without rendering; else None.

        For the page fast path (service/web/fast_path.py), which answers before the router:
        None when the page is absent or expired, and also when it is due for its background
        re-render and none is running yet, so that one request takes the normal path
        (get_or_render), starts the re-render and is served the current copy.
        """
        if self.ttl_s <= 0:
            return None
        hit = self._entries.get(key)
        if hit is None:
            return None
        now = self._clock()
        if hit.expires_at <= now or (hit.refresh_at <= now and key not in self._inflight):
            return None
        return hit.page

    async def aclose(self) -> None:
        """Stop background re-renders (at shutdown, before the database goes away)."""
        for task in self._refreshes:
            task.cancel()
        await asyncio.gather(*self._refreshes, return_exceptions=True)

    def _claim(self, key: Hashable) -> asyncio.Future[CachedPage]:
        # Registered before any await, so concurrent requests find it: single flight.
        future: asyncio.Future[CachedPage] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        return future

    def _refresh_in_background(self, key: Hashable, render: Render) -> None:
        task = asyncio.create_task(self._refresh(key, render, self._claim(key)))
        self._refreshes.add(task)
        task.add_done_callback(self._refreshes.discard)

    async def _refresh(self, key: Hashable, render: Render, future: asyncio.Future[CachedPage]) -> None:
        try:
            await self._render(key, render, future)
        except Exception:
            # The current copy is served until it expires, without further background tries;
            # then a visitor's request renders the page itself and sees the error.
            log.exception("background page render failed", key=repr(key))
            hit = self._entries.get(key)
            if hit is not None:
                self._entries[key] = replace(hit, refresh_at=hit.expires_at)

    async def _render(self, key: Hashable, render: Render, future: asyncio.Future[CachedPage]) -> CachedPage:
        now = self._clock()
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
        self._entries[key] = _Entry(now + self.ttl_s * REFRESH_AFTER, now + self.ttl_s, page)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
