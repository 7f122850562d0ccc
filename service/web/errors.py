"""Exception handlers: JSON for the API and webhooks, an HTML page for people."""

from __future__ import annotations

import sqlite3

import asyncpg  # type: ignore[import-untyped]  # no stubs published; only its exception types are used
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from service.errors import DomainError
from service.logging import get_logger, loggable_path
from service.outage import RETRY_AFTER_S, is_database_unavailable
from service.web.api import error_response
from service.web.pages import templates

log = get_logger("goodloop.errors")

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/webhooks/"))


def _render(request: Request, error: DomainError) -> Response:
    if _wants_json(request):
        return error_response(error)
    response = templates.TemplateResponse(
        request, "error.html", {"error": error}, status_code=error.status_code
    )
    retry_after = getattr(error, "retry_after_s", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return _render(request, exc)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    response = _render(request, DomainError(str(exc.detail), code=code, status_code=exc.status_code))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    # Reached from outside the routes too (a middleware that reads the database), where the
    # handler below does not apply: an outage is still a 503, never a 500.
    if is_database_unavailable(exc):
        return _unavailable(request, exc)
    log.exception("unhandled error", exc_info=exc)
    request_id = request.scope.get("state", {}).get("request_id", "")
    error = DomainError(
        f"something went wrong on our side (request {request_id})", code="internal_error", status_code=500
    )
    return _render(request, error)


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    status_code = 503
    retry_after_s = RETRY_AFTER_S


def _unavailable(request: Request, exc: BaseException) -> Response:
    # One line, no traceback: during an outage every request fails the same known way.
    route = str(getattr(request.scope.get("route"), "path", ""))
    log.warning("database unavailable", path=loggable_path(request.url.path, route), error=type(exc).__name__)
    error = ServiceUnavailable("Goodloop cannot reach its database right now; please try again in a minute.")
    if _wants_json(request):
        return error_response(error)
    response = templates.TemplateResponse(request, "unavailable.html", {"error": error}, status_code=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    response.headers["Cache-Control"] = "no-store"
    return response


async def database_error(request: Request, exc: Exception) -> Response:
    """Registered for the database's and the network's exception types; anything else there
    that is not an outage (an integrity error that escaped, a bug) goes on to server_error."""
    if not is_database_unavailable(exc):
        raise exc
    return _unavailable(request, exc)


DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    sqlite3.Error,
)
