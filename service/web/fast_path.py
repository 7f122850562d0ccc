"""The page fast path: a cached public page answered before the router and the heavy middleware.

A viral campaign page is served from the in-process cache (service/web/microcache.py) almost
every time, yet each view still went through the body limit, the session middleware, the
exception middleware, the router's pattern list and the endpoint's wrapper, which together
cost more than building the response. This layer sits just inside RequestContextMiddleware
(so the request id, the access log line, the security headers and the metrics are applied
exactly as for any other request) and, for a GET that matches one of its routes, asks that
route's responder for the cached answer. The responder returns None when the page is not
cached (or must be re-rendered, or the visitor is someone the cache does not serve), and the
request goes the normal way: the fast path never renders, it only serves what the normal
path would serve from the same cache entry, built by the same functions.

Requests bringing a session cookie always take the normal path: the session middleware may
refresh the cookie on the way out, and the fast path does not run it.

Stripe's deliveries take it too (webhooks/intake.py FAST_ROUTES): they need no session, and
the intake checks the body's size itself (a delivery without a Content-Length, or a larger
one than the app's limit, goes the normal way, through the body limit).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

FAST_PATH_HITS = Counter(
    "goodloop_page_fast_path_total", "Cached pages answered before the router, by route", ["route"]
)

Responder = Callable[[Request], Awaitable[Response | None]]


@dataclass(frozen=True)
class FastRoute:
    """A route whose answers may skip the router: for a `method` request the route matches,
    `respond(request)` (path params filled in as the router would) returns the response, or
    None to take the normal path. A responder that raises is handled as any endpoint's error
    that reaches ServerErrorMiddleware: it renders its own expected errors."""

    route: Route
    respond: Responder
    method: str = "GET"


class PageFastPathMiddleware:
    def __init__(self, app: ASGIApp, *, routes: Sequence[FastRoute], session_cookie: str) -> None:
        self.app = app
        self.routes = tuple(routes)
        # One child per route, looked up once: `.labels()` costs a lock and a dict per call.
        self._hits = {id(fast): FAST_PATH_HITS.labels(fast.route.path) for fast in self.routes}
        self._session_marker = f"{session_cookie}=".encode("latin-1")
        # The path up to its first parameter, which every path the route matches starts with
        # (a request under a root path takes the normal way).
        self._prefixed = tuple((fast, fast.route.path.split("{", 1)[0]) for fast in self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method = scope["method"]
            path = scope["path"]
            for fast, prefix in self._prefixed:
                # The route's fixed start first: most requests are for other pages.
                if method != fast.method or not path.startswith(prefix):
                    continue
                if self._brings_session(scope):
                    break
                match, child_scope = fast.route.matches(scope)
                if match is not Match.FULL:
                    continue
                # What the router would have added: the route (the request's label in logs
                # and metrics), the endpoint and the path parameters.
                scope.update(child_scope)
                scope["route"] = fast.route
                response = await fast.respond(Request(scope, receive))
                if response is None:
                    break
                self._hits[id(fast)].inc()
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _brings_session(self, scope: Scope) -> bool:
        marker = self._session_marker
        return any(name == b"cookie" and marker in value for name, value in scope["headers"])
