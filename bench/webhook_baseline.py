"""The intake baseline: a minimal Starlette endpoint that checks Stripe's HMAC and inserts one row.

No framework extras (no middleware, no SQLAlchemy, no SDK): the least work a correct webhook
endpoint can do. `bench/webhooks.py` runs it with uvicorn beside Goodloop's own endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SECRET = os.environ["BASELINE_WEBHOOK_SECRET"].encode()
DSN = os.environ["BASELINE_DSN"]


async def hook(request: Request) -> Response:
    body = await request.body()
    parts = dict(p.split("=", 1) for p in request.headers.get("stripe-signature", "").split(",") if "=" in p)
    timestamp = parts.get("t", "")
    expected = hmac.new(SECRET, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not timestamp.isdigit() or not hmac.compare_digest(expected, parts.get("v1", "")):
        return JSONResponse({"error": "bad_signature"}, status_code=400)
    if int(timestamp) < time.time() - 300:
        return JSONResponse({"error": "stale"}, status_code=400)
    event = json.loads(body)
    await request.app.state.pool.execute(
        "INSERT INTO bench_inbox (id, type, payload, received_at) VALUES ($1, $2, $3, now()) "
        "ON CONFLICT (id) DO NOTHING",
        event["id"],
        event["type"],
        body.decode(),
    )
    return JSONResponse({"received": True})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(DSN, min_size=10, max_size=30)
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS bench_inbox "
        "(id text PRIMARY KEY, type text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL)"
    )
    app.state.pool = pool
    yield
    await pool.close()


app = Starlette(routes=[Route("/hook", hook, methods=["POST"])], lifespan=lifespan)
