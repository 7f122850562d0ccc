"""The campaign page's fast path (service/web/fast_path.py): a cached page is answered before the
router with exactly the bytes and headers the normal path answers (but the request id), and
still gets its request id, security headers, access log line and metrics."""

from __future__ import annotations

import dataclasses
import gzip
import ipaddress
import re
from collections.abc import AsyncIterator
from typing import cast

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette

from campaigns.engagement.models import Metric
from service.app import create_app
from service.db import Database
from service.settings import Settings
from service.web.microcache import CachedPage
from service.web.tokens import DEVICE_COOKIE
from tests.campaigns.giving.helpers import donate_form, live

ROUTE = "/c/{slug:str}"
DEVICE = "dGhpcy1pcy1hLWRldmljZS1pZA"


def fast_hits() -> float:
    return REGISTRY.get_sample_value("goodloop_page_fast_path_total", {"route": ROUTE}) or 0.0


def served(status: str = "200") -> float:
    labels = {"method": "GET", "route": ROUTE, "status": status}
    return REGISTRY.get_sample_value("goodloop_http_requests_total", labels) or 0.0


def comparable(response: httpx.Response) -> list[tuple[str, str]]:
    """Every header in order, but the request id (new per request) and a new device id."""
    headers = []
    for name, value in response.headers.multi_items():
        if name == "x-request-id":
            continue
        if name == "set-cookie" and value.startswith(f"{DEVICE_COOKIE}="):
            value = re.sub(rf"^{DEVICE_COOKIE}=[^;]*", f"{DEVICE_COOKIE}=<new>", value)
        headers.append((name, value))
    return headers


@pytest.fixture
async def cached_client(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(settings, public_page_ttl_s=60.0), database=database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.60", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def get(client: httpx.AsyncClient, path: str, cookie: str | None) -> httpx.Response:
    # The visitor's cookies exactly as given: the client keeps none between requests.
    client.cookies.clear()
    return await client.get(path, headers={"Cookie": cookie} if cookie else {})


class TestFastPath:
    @pytest.mark.parametrize("cookie", [f"{DEVICE_COOKIE}={DEVICE}", None], ids=["returning", "first_visit"])
    async def test_a_cached_page_is_served_by_the_fast_path_with_the_normal_paths_bytes(
        self, cached_client: httpx.AsyncClient, database: Database, cookie: str | None
    ) -> None:
        slug = (await live(cached_client, database))["slug"]
        hits = fast_hits()

        normal = await get(cached_client, f"/c/{slug}", cookie)  # not cached yet: rendered
        assert fast_hits() == hits, "a page not cached yet takes the normal path"
        fast = await get(cached_client, f"/c/{slug}", cookie)

        assert fast_hits() == hits + 1
        assert (fast.status_code, normal.status_code) == (200, 200)
        assert fast.content == normal.content
        assert comparable(fast) == comparable(normal)
        assert fast.headers["x-request-id"] != normal.headers["x-request-id"]
        # What every response gets from RequestContextMiddleware, the fast one too.
        assert fast.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in fast.headers["content-security-policy"]
        if cookie is None:
            assert fast.headers["set-cookie"] != normal.headers["set-cookie"], "each visitor gets an id"
            assert fast.headers["cache-control"] == "private, no-store"
        else:
            assert "set-cookie" not in fast.headers
            assert fast.headers["cache-control"].startswith("public")

    async def test_the_fast_path_is_logged_and_counted_under_the_route_template(
        self, cached_client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(cached_client, database))["slug"]
        await get(cached_client, f"/c/{slug}", None)
        before, hits = served(), fast_hits()

        for _ in range(3):
            assert (await get(cached_client, f"/c/{slug}", None)).status_code == 200

        assert fast_hits() == hits + 3
        assert served() == before + 3

    async def test_a_visitor_with_a_session_and_an_unknown_page_take_the_normal_path(
        self, cached_client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(cached_client, database))["slug"]
        await get(cached_client, f"/c/{slug}", None)
        hits = fast_hits()

        signed_in = await get(cached_client, f"/c/{slug}", "goodloop_session=anything")
        missing = await get(cached_client, "/c/no-such-campaign", None)
        head = await cached_client.head(f"/c/{slug}")

        assert signed_in.status_code == 200
        assert missing.status_code == 404
        assert head.status_code == 200
        assert fast_hits() == hits

    async def test_without_a_page_cache_nothing_takes_the_fast_path(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(client, database))["slug"]
        hits = fast_hits()

        answers = [(await get(client, f"/c/{slug}", None)).status_code for _ in range(2)]

        assert answers == [200, 200]
        assert fast_hits() == hits


CHROMIUM = "gzip, deflate, br, zstd"


async def raw_get(
    client: httpx.AsyncClient, path: str, *, cookie: str | None, accept_encoding: str | None
) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent (not decoded); Accept-Encoding exactly as given."""
    client.cookies.clear()
    request = client.build_request("GET", path, headers={"Cookie": cookie} if cookie else {})
    del request.headers["accept-encoding"]
    if accept_encoding is not None:
        request.headers["accept-encoding"] = accept_encoding
    response = await client.send(request, stream=True)
    raw = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return response, raw


class TestCompressedPages:
    @pytest.mark.parametrize(
        "accept_encoding", [CHROMIUM, "identity", None], ids=["gzip", "identity", "none"]
    )
    @pytest.mark.parametrize("cookie", [f"{DEVICE_COOKIE}={DEVICE}", None], ids=["returning", "first_visit"])
    async def test_both_paths_send_the_same_bytes_for_each_encoding(
        self,
        cached_client: httpx.AsyncClient,
        database: Database,
        cookie: str | None,
        accept_encoding: str | None,
    ) -> None:
        slug = (await live(cached_client, database))["slug"]
        hits = fast_hits()

        normal, normal_raw = await raw_get(
            cached_client, f"/c/{slug}", cookie=cookie, accept_encoding=accept_encoding
        )
        assert fast_hits() == hits, "a page not cached yet takes the normal path"
        fast, fast_raw = await raw_get(
            cached_client, f"/c/{slug}", cookie=cookie, accept_encoding=accept_encoding
        )
        _, plain = await raw_get(cached_client, f"/c/{slug}", cookie=cookie, accept_encoding=None)

        assert fast_hits() == hits + 2
        assert fast_raw == normal_raw
        assert comparable(fast) == comparable(normal)
        assert fast.headers["content-length"] == str(len(fast_raw))
        # Whichever variant this is, shared caches are told the page has two.
        assert fast.headers["vary"] == "Accept-Encoding, Accept-Language, Cookie"
        if accept_encoding == CHROMIUM:
            assert fast.headers["content-encoding"] == "gzip"
            assert gzip.decompress(fast_raw) == plain
            assert len(fast_raw) < len(plain) / 3
        else:
            assert "content-encoding" not in fast.headers
            assert fast_raw == plain

    async def test_a_page_rendered_for_one_request_is_never_compressed(
        self, cached_client: httpx.AsyncClient, database: Database
    ) -> None:
        # BREACH: a form page with this request's input in it (and, elsewhere, a session's
        # token) must not be compressed; only the cached pages, the same for everyone, are.
        slug = (await live(cached_client, database))["slug"]

        refused = await donate_form(cached_client, slug, amount="0,01", email="donor@example.org")

        assert refused.status_code == 422
        assert refused.request.headers["accept-encoding"].startswith("gzip")
        assert "content-encoding" not in refused.headers
        assert "Accept-Encoding" not in refused.headers.get("vary", "")


def views(app_client: httpx.AsyncClient, slug: str) -> int:
    app = cast(Starlette, cast(httpx.ASGITransport, app_client._transport).app)
    pending = app.state.engagement.pending()
    return sum(count for (key, _, metric), count in pending.items() if key == slug and metric == Metric.VIEW)


@pytest.fixture
async def proxied_client(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """Behind a trusted proxy (the peer), as in production behind a load balancer."""
    proxy = ipaddress.ip_network("203.0.113.0/24")
    config = dataclasses.replace(settings, public_page_ttl_s=60.0, trusted_proxies=(proxy,))
    app = create_app(config, database=database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.60", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


class TestFastPathVisitors:
    async def test_views_are_counted_per_forwarded_client_as_the_normal_path_counts_them(
        self, proxied_client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(proxied_client, database))["slug"]
        await get(proxied_client, f"/c/{slug}", None)  # renders and caches the page
        counted, hits = views(proxied_client, slug), fast_hits()

        for client in ("198.51.100.1", "198.51.100.2", "198.51.100.1"):
            proxied_client.cookies.clear()
            forwarded = {"X-Forwarded-For": f"{client}, 203.0.113.61", "User-Agent": "Mozilla/5.0 (phone)"}
            assert (await proxied_client.get(f"/c/{slug}", headers=forwarded)).status_code == 200

        assert fast_hits() == hits + 3
        assert views(proxied_client, slug) == counted + 2, "two people behind the proxy, one came back"

    async def test_a_device_cookie_in_a_second_cookie_header_makes_a_returning_visitor(
        self, cached_client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(cached_client, database))["slug"]
        headers = [("Cookie", "theme=dark"), ("Cookie", f"{DEVICE_COOKIE}={DEVICE}")]
        cached_client.cookies.clear()
        normal = await cached_client.get(f"/c/{slug}", headers=headers)
        hits = fast_hits()
        fast = await cached_client.get(f"/c/{slug}", headers=headers)

        assert fast_hits() == hits + 1
        assert comparable(fast) == comparable(normal)
        assert "set-cookie" not in fast.headers
        assert fast.headers["cache-control"].startswith("public")


def test_a_re_rendered_page_is_served_with_its_own_length_and_headers() -> None:
    html = (("content-type", "text/html; charset=utf-8"),)
    before = CachedPage(body=b"<p>raised 10</p>", status_code=200, headers=html)
    after = CachedPage(body=b"<p>raised 1,000</p>", status_code=200, headers=html)

    first, again = before.response_headers, before.response_headers
    rendered = after.response_headers

    assert first is again, "built once per cached page"
    assert dict(first)[b"content-length"] == b"16"
    assert rendered == [(b"content-length", b"19"), (b"content-type", b"text/html; charset=utf-8")]
