"""What a route needs from the running app: database, settings, caller identity, rate limits."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from typing import cast

import stripe
from starlette.requests import Request

from service import ratelimit
from service.db import Database
from service.errors import RateLimited, Unauthenticated
from service.metrics import RATE_LIMITED
from service.settings import IPNetwork, Settings
from service.web.microcache import MicroCache


def database(request: Request) -> Database:
    return cast(Database, request.app.state.database)


def stripe_client(request: Request) -> stripe.StripeClient:
    return cast(stripe.StripeClient, request.app.state.stripe)


def page_cache(request: Request) -> MicroCache:
    return cast(MicroCache, request.app.state.page_cache)


def settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    return token.strip()


def client_address(request: Request) -> str:
    """The client's address, only ever used hashed (rate-limit keys); never stored raw.

    The one place that decides it. X-Forwarded-For is believed only from a peer listed in
    GOODLOOP_TRUSTED_PROXIES: anyone else could write any address there and get a fresh
    rate-limit allowance per request.
    """
    peer = request.client.host if request.client else "unknown"
    return forwarded_client(
        peer, request.headers.getlist("x-forwarded-for"), settings(request).trusted_proxies
    )


def forwarded_client(peer: str, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str:
    """Walk X-Forwarded-For from the right (the hop nearest us) past trusted proxies.

    The left end is whatever the client wrote; each trusted proxy appends the address it saw,
    so the first untrusted address from the right is the furthest one somebody we trust saw.
    """
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    client = peer
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            break  # garbage from before a trusted hop: keep the last address we could verify
        client = str(address)
        if not any(address in network for network in trusted):
            break
    return client


def _is_trusted(host: str, trusted: Sequence[IPNetwork]) -> bool:
    address = _ip(host)
    return address is not None and any(address in network for network in trusted)


# Every page view asks whether its peer is a trusted proxy; the same few peers (the load
# balancers) come back all the time, and parsing the text cost more than the rest of the
# check. Addresses are immutable values, so a bounded cache is safe.
@functools.lru_cache(maxsize=4096)
def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


async def enforce_rate_limit(request: Request, limit: ratelimit.Limit, subject: str) -> None:
    """Count the attempt in its own transaction so it sticks even when the request fails."""
    try:
        async with database(request).transaction() as session:
            await ratelimit.hit(
                session, secret_key=settings(request).secret_key, limit=limit, subject=subject
            )
    except RateLimited:
        RATE_LIMITED.labels(limit.name).inc()
        raise
