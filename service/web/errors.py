"""Exception handlers: JSON for the API and webhooks, an HTML page for people."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from service.errors import DomainError
from service.logging import get_logger
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
    log.exception("unhandled error", exc_info=exc)
    request_id = request.scope.get("state", {}).get("request_id", "")
    error = DomainError(
        f"something went wrong on our side (request {request_id})", code="internal_error", status_code=500
    )
    return _render(request, error)
