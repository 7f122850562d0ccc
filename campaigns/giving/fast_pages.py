"""The campaign page on the fast path (service/web/fast_path.py): served from the page cache
before the router, with the bytes and headers the normal path (campaigns/giving/pages.py)
answers.

`campaign_page` in pages.py is get_or_render, then count the view, then the per-visitor part
(`for_visitor`: device cookie, Cache-Control). Here the cache is only peeked at: a page that
is not cached, expired, or due for its re-render goes the normal way, which renders it. The
view is counted by the same recorder call with the same visitor (address, user agent), and the
per-visitor headers are the same constants and the same cookie builder; what differs is only
how the request is read and the response assembled, because this runs on every view of a page
that went viral: one pass over the raw request headers instead of Starlette's Headers and
cookie parser, and the cached page's header list (Content-Length first, as Response writes
it) built once per cached page rather than once per view. tests/campaigns/giving/
test_fast_path.py compares both paths byte for byte, first visits and returning visitors.

The cache key carries the language the request asks for (campaigns/giving/languages.py: the
last `lang` in the query, the `gl_lang` cookie, Accept-Language; None for the campaign's
default), read here from the raw query string and headers in the same pass; Accept-Language
is negotiated once per distinct header (an LRU), so a view costs no Babel or gettext work. A
`?lang=` the cookie does not hold yet goes the normal way, which remembers it (Set-Cookie).
tests/campaigns/giving/test_language.py compares both paths in both languages.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from campaigns.engagement.recorder import EngagementRecorder
from campaigns.giving import languages, pages
from service import i18n
from service.settings import Settings
from service.web import compression, tokens
from service.web.context import forwarded_client
from service.web.fast_path import FastRoute
from service.web.microcache import MicroCache
from service.web.middleware import WITH_SECURITY_HEADERS, RawHeader, security_headers

RawHeaders = list[tuple[bytes, bytes]]

_DEVICE = tokens.DEVICE_COOKIE.encode("latin-1")


class _CachedPageResponse(Response):
    """A Response whose header list is given whole (no init_headers per view), the security
    headers included: its start message tells RequestContextMiddleware so
    (middleware.WITH_SECURITY_HEADERS), which then only adds the request id."""

    def __init__(
        self, body: bytes, status_code: int, raw_headers: RawHeaders, security: tuple[RawHeader, ...]
    ) -> None:
        self.body = body
        self.status_code = status_code
        self.background = None
        self.raw_headers = raw_headers
        self._security = security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Response.__call__ for an http request without a background task, plus the marker.
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
                WITH_SECURITY_HEADERS: self._security,
            }
        )
        await send({"type": "http.response.body", "body": self.body})


async def cached_campaign_page(request: Request) -> Response | None:
    slug: str = request.path_params["slug"]
    state: Any = request.app.state
    cache: MicroCache = state.page_cache
    # What Starlette's Headers.get (the first such header), Headers.getlist and
    # Request.cookies would read, in one pass.
    user_agent = None
    accept_language = None
    accept_encoding = None
    cookies: list[bytes] = []
    forwarded: list[str] = []
    for name, value in request.scope["headers"]:
        if name == b"user-agent":
            if user_agent is None:
                user_agent = value.decode("latin-1")
        elif name == b"cookie":
            cookies.append(value)
        elif name == b"accept-language":
            if accept_language is None:
                accept_language = value.decode("latin-1")
        elif name == b"accept-encoding":
            if accept_encoding is None:
                accept_encoding = value.decode("latin-1")
        elif name == b"x-forwarded-for":
            forwarded.append(value.decode("latin-1"))
    # languages.requested, from the raw request; a `?lang=` the cookie does not hold yet is
    # remembered by the normal path (a Set-Cookie this path does not write).
    asked = languages.query_language(request.scope["query_string"])
    cookie_language = languages.cookie_value(cookies)
    if languages.remembers(asked, cookie_language):
        return None
    language = asked or i18n.normalise(cookie_language) or languages.negotiated(accept_language)
    page = cache.peek(("campaign", slug, language))
    if page is None:
        return None
    config: Settings = state.settings
    # pages.count_view: client_address (which, without X-Forwarded-For, is the peer whoever
    # it is) and the user agent.
    client = request.scope.get("client")
    peer = client[0] if client else "unknown"
    address = forwarded_client(peer, forwarded, config.trusted_proxies) if forwarded else peer
    engagement: EngagementRecorder = state.engagement
    engagement.record_view(slug, address=address, user_agent=user_agent or "")
    # pages.for_visitor: cookie headers without the name cannot hold the device cookie.
    device = None
    if any(_DEVICE in cookie for cookie in cookies):
        parsed: dict[str, str] = {}
        for cookie in cookies:
            parsed.update(cookie_parser(cookie.decode("latin-1")))
        device = parsed.get(tokens.DEVICE_COOKIE)
    # pages.for_visitor(shared=True): gzipped for a browser that takes it.
    gzipped = page.gzip_body
    if gzipped is not None and compression.accepts_gzip(accept_encoding):
        body = gzipped
        headers = page.gzip_response_headers.copy()
    else:
        body = page.body
        headers = page.response_headers.copy()
    headers += pages.visitor_headers(page.status_code, device, secure=config.is_production)
    headers += languages.vary_headers(in_url=asked is not None, compressible=gzipped is not None)
    # The visitor's headers (Cache-Control, Set-Cookie, Vary) are none of the security headers,
    # so what the middleware would append depends on the page alone: worked out once per page.
    security = security_headers(hsts=config.is_production)
    headers += page.security_suffix(security)
    return _CachedPageResponse(body, page.status_code, headers, security)


def _route(name: str) -> Route:
    found = [route for route in pages.routes if isinstance(route, Route) and route.name == name]
    assert len(found) == 1, f"no single route named {name}"
    return found[0]


FAST_ROUTES = (FastRoute(route=_route("giving:campaign"), respond=cached_campaign_page),)
