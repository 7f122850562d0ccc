"""ASGI middleware: request context (id, security headers, logs, metrics) and the body limit."""

from __future__ import annotations

import functools
import random
import re
import time
from collections.abc import Iterable

from starlette.middleware import body_limit
from starlette.routing import BaseRoute, Mount, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.logging import REQUEST_ID, get_logger, loggable_path
from service.metrics import observe_request

log = get_logger("goodloop.http")

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Every request gets an id (kept from X-Request-ID when sane), the strict security
    headers, one access log line and its metrics.

    One middleware rather than one per concern: every layer wraps `send` and costs a coroutine
    and a closure per request and a call per message. A route that may be framed sets its own
    Content-Security-Policy first.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.security_headers = security_headers(hsts=hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # An id to find a request's lines by, not a secret: the OS's random source is not needed.
        request_id = _incoming_request_id(scope) or f"{random.getrandbits(64):016x}"
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        defaults = self.security_headers
        bound = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        app = scope.get("app")

        async def send_with_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if message.get(WITH_SECURITY_HEADERS) is defaults:
                    # Merged already (with_security_headers), into a list made for this response.
                    headers = message["headers"]
                else:
                    headers = with_security_headers(message.get("headers", ()), defaults)
                headers.append(id_header)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_context)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope, same_app=scope.get("app") is app)
            observe_request(scope["method"], route, status, elapsed)
            log.info(
                "request",
                method=scope["method"],
                path=loggable_path(scope["path"], route),
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )
            REQUEST_ID.reset(bound)


# The app's limit on a request body (service/app.py); the webhook intake's fast path
# (webhooks/intake.py) takes only deliveries within it.
MAX_BODY_BYTES = 1024 * 1024


class RequestBodyLimitMiddleware:
    """Starlette's request body limit, for the requests that can have a body.

    A request with neither Content-Length nor Transfer-Encoding has none (RFC 9112, 6.3), so
    the page views that make up most traffic skip the wrapper around `receive` and `send`.
    Placed inside RequestContextMiddleware, so a 413 is logged as one and gets the headers.
    """

    def __init__(self, app: ASGIApp, *, max_body_size: int) -> None:
        self.app = app
        self.limited = body_limit.RequestBodyLimitMiddleware(app, max_body_size=max_body_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _may_have_body(scope):
            await self.limited(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _may_have_body(scope: Scope) -> bool:
    return any(name in _BODY_HEADERS for name, _ in scope["headers"])


_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _REQUEST_ID_OK.match(candidate) else None
    return None


def _route_template(scope: Scope, *, same_app: bool) -> str:
    # The template, not the path: label cardinality must not grow with ids and slugs.
    route = scope.get("route")
    if isinstance(route, Mount) and isinstance(route.app, Router):
        # An area's mount whose routes all missed: as unmatched as a path outside every area.
        return "unmatched"
    if not isinstance(route, BaseRoute):
        return "unmatched"
    path = str(getattr(route, "path", "unmatched"))
    if isinstance(route, Mount) or not same_app:
        # A mounted app (static files, the Stripe sandbox) is labelled as it always was: by
        # its mount's prefix, or by its own route's path.
        return path
    # A route in an area's Mount has a path relative to the mount: put the prefix back, so
    # labels read /dashboard/login, not /login.
    prefix = str(scope.get("root_path", ""))[len(str(scope.get("app_root_path", ""))) :]
    return prefix + path


DEFAULT_CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


RawHeader = tuple[bytes, bytes]
_CSP = b"content-security-policy"
_FRAME_OPTIONS = b"x-frame-options"


def _raw(name: str, value: str) -> RawHeader:
    return name.lower().encode("latin-1"), value.encode("latin-1")


_DEFAULT_FRAMING = (_raw("Content-Security-Policy", DEFAULT_CSP), _raw("X-Frame-Options", "DENY"))


# A response start message whose `headers` already end with the security headers, merged by
# with_security_headers: {WITH_SECURITY_HEADERS: security_headers(hsts=...)} in the message, the
# very tuple the middleware holds (another one, e.g. of the other hsts setting, is merged again).
# For the page fast path (campaigns/giving/fast_pages.py), which sends the same page's headers
# thousands of times a second: merged once per cached page instead of once per view.
WITH_SECURITY_HEADERS = "goodloop.with_security_headers"


@functools.cache
def security_headers(*, hsts: bool) -> tuple[RawHeader, ...]:
    defaults = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if hsts:
        defaults.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    return tuple(_raw(name, value) for name, value in defaults)


def with_security_headers(sent: Iterable[RawHeader], defaults: Iterable[RawHeader]) -> list[RawHeader]:
    """What the middleware sends before the request id: a new header list (the response may be
    sent again) with every default it lacks and the framing rule; `sent` must hold every header
    the response will carry."""
    headers = list(sent)
    present = {name.lower() for name, _ in headers}
    headers += [header for header in defaults if header[0] not in present]
    if _CSP not in present:
        # No policy of its own means the page may never be framed, whatever else it said.
        if _FRAME_OPTIONS in present:
            headers = [header for header in headers if header[0].lower() != _FRAME_OPTIONS]
        headers += _DEFAULT_FRAMING
    return headers
