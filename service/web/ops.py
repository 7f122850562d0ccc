"""Operator endpoints: liveness, readiness (database), Prometheus metrics."""

from __future__ import annotations

import hmac

from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.errors import Unauthenticated
from service.metrics import render_latest
from service.outage import RETRY_AFTER_S
from service.web.api import error_response
from service.web.context import database, settings


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await database(request).ping()
    except (SQLAlchemyError, OSError) as e:
        return JSONResponse(
            {"status": "unavailable", "database": type(e).__name__},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"},
        )
    return JSONResponse({"status": "ok", "database": "ok"})


async def metrics(request: Request) -> Response:
    config = settings(request)
    if config.metrics_address is not None or (config.is_production and config.metrics_token is None):
        # Served on an address of its own, or not meant for the public port at all: closed
        # looks like absent.
        raise HTTPException(404)
    if config.metrics_token is not None and not _bearer_matches(request, config.metrics_token):
        response = error_response(
            Unauthenticated("send the metrics token as 'Authorization: Bearer <token>'")
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = render_latest()
    return Response(body, media_type=content_type)


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    # Constant time: the comparison must not tell a guesser how many characters were right.
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


routes = [
    Route("/healthz", healthz, methods=["GET"], name="ops:healthz"),
    Route("/readyz", readyz, methods=["GET"], name="ops:readyz"),
    Route("/metrics", metrics, methods=["GET"], name="ops:metrics"),
]
