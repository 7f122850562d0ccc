"""One outbound webhook request, safe against server-side request forgery.

At send time the host is resolved (getaddrinfo, in a thread), and the request is refused if
ANY address it resolves to is not public (campaigns.integrations.addresses). The connection
then goes to the exact address that was checked: httpx's connection pool is given a network
backend that connects to that address whatever name it is asked for, so a DNS answer that
changes between the check and the connect (rebinding) changes nothing. TLS still verifies the
certificate against the URL's host name (SNI and hostname checks use the name, not the
address). Redirects are never followed (a 3xx is a failed attempt), proxies from the
environment are ignored, the whole attempt (DNS, connect, TLS, request, response) has one time
cap, and at most the first 1 KB of the response is read, raw (no decompression), and kept.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import httpcore
import httpx

from campaigns.integrations import addresses
from campaigns.integrations.endpoint_models import AttemptOutcome

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""host, port -> the addresses it resolves to (as text). Tests inject their own."""

MAX_RESPONSE_BYTES = 1024
TIMEOUT_S = 10.0


async def system_resolver(host: str, port: int) -> Sequence[str]:
    # The event loop's getaddrinfo runs the blocking call in its thread pool.
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Certificate and hostname verification on (httpx's default, with its CA bundle).
    return httpx.create_ssl_context(verify=True, trust_env=False)


@dataclass(frozen=True)
class SendPolicy:
    allow_loopback: bool = False
    """GOODLOOP_WEBHOOKS_ALLOW_LOOPBACK: http:// and loopback addresses (development only)."""
    timeout_s: float = TIMEOUT_S
    max_response_bytes: int = MAX_RESPONSE_BYTES
    resolver: Resolver = system_resolver
    network_backend: httpcore.AsyncNetworkBackend | None = field(default=None, compare=False)
    """What opens sockets (None: httpcore's own); tests may record connects instead."""
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)
    """None: verify against the public CA bundle."""


@dataclass(frozen=True)
class SendResult:
    outcome: AttemptOutcome
    status_code: int | None
    latency_ms: int
    response_body: str
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.outcome is AttemptOutcome.DELIVERED


class Refused(Exception):
    """Not sent: the URL or an address it resolves to is not allowed."""


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the one address that was checked, whatever host httpcore asks for.

    The transport is built for one request to one URL (no redirects are followed), so the only
    host httpcore can ask for is the URL's; ignoring the name is what makes a second DNS answer
    impossible."""

    def __init__(self, address: str, inner: httpcore.AsyncNetworkBackend) -> None:
        self._address = address
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_tcp(
            self._address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks never use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: httpcore.AsyncNetworkBackend, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False, retries=0)
        # httpx offers no way to hand its pool a network backend; this pool is the one it
        # would build, plus the backend that connects only to the checked address.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=1,
            max_keepalive_connections=0,
            retries=0,
            network_backend=backend,
        )


async def checked_address(target: addresses.Target, policy: SendPolicy) -> str:
    """The address to connect to: every address the host resolves to must be public."""
    literal = addresses.parse_ip(target.host)
    if literal is not None:
        found: Sequence[str] = [str(literal)]
    else:
        try:
            found = await policy.resolver(target.host, target.port)
        except (OSError, UnicodeError) as e:
            # UnicodeError: the name cannot be encoded for DNS (a label too long, say).
            raise httpx.ConnectError(f"{target.host} does not resolve") from e
    if not found:
        raise httpx.ConnectError(f"{target.host} does not resolve")
    parsed = [addresses.parse_ip(text) for text in found]
    for text, address in zip(found, parsed, strict=True):
        if address is None:
            raise Refused(f"the resolver answered {text!r}, which is not an address")
        reason = addresses.refusal(address, allow_loopback=policy.allow_loopback)
        if reason is not None:
            raise Refused(f"{target.host} resolves to {reason}")
    return str(parsed[0])


async def send(url: str, *, body: bytes, headers: Mapping[str, str], policy: SendPolicy) -> SendResult:
    """POST `body` to `url` once; every outcome is a SendResult, never an exception."""
    loop = asyncio.get_running_loop()
    # Latency is a duration on the loop's monotonic clock, not an instant of domain time.
    started = loop.time()

    def result(outcome: AttemptOutcome, **kw: typing.Any) -> SendResult:
        elapsed = int((loop.time() - started) * 1000)
        values: dict[str, typing.Any] = {"status_code": None, "response_body": "", "error": None, **kw}
        return SendResult(outcome=outcome, latency_ms=elapsed, **values)

    try:
        async with asyncio.timeout(policy.timeout_s):
            status, head = await _post(url, body=body, headers=headers, policy=policy)
    except Refused as e:
        return result(AttemptOutcome.REFUSED, error=_short(str(e)))
    except (httpx.InvalidURL, ValueError, UnicodeError) as e:
        # A URL httpx cannot send (check_url refuses those now, but older rows may hold one).
        return result(AttemptOutcome.REFUSED, error=_short(f"the URL cannot be sent to: {e}"))
    except (TimeoutError, httpx.TimeoutException):
        return result(AttemptOutcome.TIMEOUT, error=f"no answer within {policy.timeout_s:g} s")
    except httpx.HTTPError as e:
        return result(AttemptOutcome.CONNECTION_ERROR, error=_short(f"{type(e).__name__}: {e}"))
    text = head.decode("utf-8", "replace")
    if 200 <= status < 300:
        return result(AttemptOutcome.DELIVERED, status_code=status, response_body=text)
    error = "redirects are not followed" if 300 <= status < 400 else None
    return result(AttemptOutcome.HTTP_ERROR, status_code=status, response_body=text, error=error)


async def _post(
    url: str, *, body: bytes, headers: Mapping[str, str], policy: SendPolicy
) -> tuple[int, bytes]:
    try:
        target = addresses.check_url(url, allow_loopback=policy.allow_loopback)
    except addresses.UrlRefused as e:
        raise Refused(str(e)) from e
    address = await checked_address(target, policy)
    backend = _PinnedBackend(address, policy.network_backend or httpcore.AnyIOBackend())
    transport = _PinnedTransport(backend, policy.ssl_context or _ssl_context())
    async with (
        httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False) as client,
        client.stream("POST", url, content=body, headers=dict(headers)) as response,
    ):
        head = bytearray()
        # Raw bytes (no decompression, Accept-Encoding is identity), and never more than
        # the cap: the rest of a large answer is not read at all.
        async for chunk in response.aiter_raw():
            head += chunk[: policy.max_response_bytes - len(head)]
            if len(head) >= policy.max_response_bytes:
                break
        return response.status_code, bytes(head)


def _short(text: str) -> str:
    return text if len(text) <= 300 else text[:299] + "…"
