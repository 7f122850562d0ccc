"""Exception handlers: JSON for the API and webhooks, an HTML page for people, in their
language (service.web.language's rule; the API's detail stays English)."""

from __future__ import annotations

import sqlite3
from http import HTTPStatus
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs published; only its exception types are used
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from service.errors import DomainError
from service.i18n import N_
from service.logging import get_logger, loggable_path
from service.outage import RETRY_AFTER_S, is_database_unavailable
from service.web.api import error_response
from service.web.language import page_language, template_context
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


# Starlette's own HTTPException details are the bare status phrases ("Not Found"); people read
# a sentence instead (the API keeps the phrase).
_HTTP_SENTENCES = {
    400: N_("the request could not be read; go back and try again"),
    404: N_("this page does not exist, or is no longer here"),
    405: N_("this page cannot be used that way; go back and try again"),
    413: N_("what you sent is too large"),
}


def _page(request: Request, template: str, context: dict[str, Any], status_code: int) -> Response:
    """An error page in the visitor's language (no campaign default is known here)."""
    try:
        language = page_language(request)
    except Exception:  # noqa: BLE001 (a broken request must still get its error page)
        language = "en"
    response = templates.TemplateResponse(
        request, template, {**template_context(language), **context}, status_code=status_code
    )
    response.headers["Content-Language"] = language
    return response


def _render(request: Request, error: DomainError) -> Response:
    if _wants_json(request):
        return error_response(error)
    response = _page(request, "error.html", {"error": error}, error.status_code)
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
    detail = str(exc.detail)
    if (
        not _wants_json(request)
        and exc.status_code in _HTTP_SENTENCES
        and _is_phrase(exc.status_code, detail)
    ):
        detail = _HTTP_SENTENCES[exc.status_code]
    response = _render(request, DomainError(detail, code=code, status_code=exc.status_code))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _is_phrase(status_code: int, detail: str) -> bool:
    try:
        return detail == HTTPStatus(status_code).phrase
    except ValueError:
        return False


async def server_error(request: Request, exc: Exception) -> Response:
    # Reached from outside the routes too (a middleware that reads the database), where the
    # handler below does not apply: an outage is still a 503, never a 500.
    if is_database_unavailable(exc):
        return _unavailable(request, exc)
    log.exception("unhandled error", exc_info=exc)
    request_id = request.scope.get("state", {}).get("request_id", "")
    error = DomainError(
        N_("something went wrong on our side (request %(request_id)s)", request_id=request_id),
        code="internal_error",
        status_code=500,
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
    error = ServiceUnavailable(
        N_("Goodloop cannot reach its database right now; please try again in a minute.")
    )
    if _wants_json(request):
        return error_response(error)
    response = _page(request, "unavailable.html", {"error": error}, 503)
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
