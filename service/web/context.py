"""What a route needs from the running app: database, settings, caller identity, rate limits."""

from __future__ import annotations

from typing import cast

import stripe
from starlette.requests import Request

from service import ratelimit
from service.db import Database
from service.errors import RateLimited, Unauthenticated
from service.metrics import RATE_LIMITED
from service.settings import Settings
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
    """The peer address, only ever used hashed (rate-limit keys); never stored raw."""
    return request.client.host if request.client else "unknown"


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
