"""JSON API plumbing: parse bodies with pydantic, answer errors uniformly, describe in OpenAPI."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.errors import DomainError, ValidationFailed
from service.logging import get_logger
from service.web import idempotency
from service.web.validation_messages import field_message

log = get_logger("goodloop.api")

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
Endpoint = Callable[[Request], Awaitable[Response]]


class InvalidJson(DomainError):
    code = "invalid_json"
    status_code = 400


class InvalidInput(ValidationFailed):
    """A body or query refused for its shape (parse_json, parse_query)."""


CallerCheck = Callable[[Request], Awaitable[None]]
"""Raises Unauthenticated unless the request's credentials hold (the app factory sets one as
`app.state.check_api_caller`: the kinds of credentials live in higher packages)."""


def field_errors(error: pydantic.ValidationError) -> dict[str, str]:
    """One plain message per field, keyed by dotted path ('suggested_amounts_minor.2')."""
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in item["loc"]) or "body"
        fields.setdefault(name, field_message(item))
    return fields


def validate(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as e:
        raise InvalidInput(field_errors(e)) from e


MAX_JSON_DEPTH = 32
"""Deeper than any request shape; JSON kept in the database must also be written out again."""


async def parse_json(request: Request, model: type[ModelT]) -> ModelT:
    """The one place a JSON request body is parsed: whatever the parser chokes on is a 400."""
    body = await request.body()
    try:
        data = load_json(body) if body else {}
    except InvalidJson as e:
        # Bad input, not our failure: one line at info, without a traceback.
        cause = e.__cause__
        log.info(
            "request body refused",
            path=request.url.path,
            reason=e.detail,
            cause=f"{type(cause).__name__}: {cause}"[:200] if cause else None,
        )
        raise
    if not isinstance(data, dict):
        raise InvalidJson("the request body must be a JSON object")
    return validate(model, data)


def load_json(body: bytes) -> Any:
    """Strict JSON, refused as InvalidJson however it is wrong."""
    try:
        data = _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except RecursionError as e:
        raise InvalidJson(f"the request body is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from e
    except json.JSONDecodeError as e:
        raise InvalidJson("the request body is not valid JSON") from e
    except UnicodeDecodeError as e:
        raise InvalidJson("the request body is not UTF-8 text") from e
    except ValueError as e:
        # Python's int_max_str_digits (a number too long to convert) and the constants above.
        raise InvalidJson(f"the request body is not valid JSON: {_gist(e)}") from e
    # A body with fewer brackets than the limit cannot nest deeper (almost every body).
    brackets = body.count(b"[") + body.count(b"{")
    if brackets > MAX_JSON_DEPTH and _nested_deeper_than(body, MAX_JSON_DEPTH):
        raise InvalidJson(f"the request body is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# NaN and Infinity are Python's, not JSON's, and no database takes them in a JSON column. One
# decoder for every body: json.loads with an argument builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _gist(error: Exception) -> str:
    return str(error).split(":", 1)[0].split(";", 1)[0]


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
# Every bracket becomes "[" or "]"; everything else is dropped.
_ONLY_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether valid JSON `body` nests deeper than `limit`, in C-speed passes over bytes.

    With strings removed and braces made brackets, each replace of "[]" removes exactly the
    innermost level; brackets left after `limit` passes mean a deeper level. Walking the
    parsed value in Python instead cost eight times the parse of a 1 MiB body.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(_ONLY_BRACKETS, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)


def parse_query(request: Request, model: type[ModelT]) -> ModelT:
    keys = [key for key, _ in request.query_params.multi_items()]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        # A repeated parameter would silently mean "the last one"; say so instead.
        raise InvalidInput({key: "give this parameter once" for key in repeated})
    return validate(model, dict(request.query_params))


def json_response(payload: pydantic.BaseModel | dict[str, Any], status_code: int = 200) -> JSONResponse:
    content = payload.model_dump(mode="json") if isinstance(payload, pydantic.BaseModel) else payload
    return JSONResponse(content, status_code=status_code, headers={"Cache-Control": "no-store"})


def error_response(error: DomainError) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    retry_after = getattr(error, "retry_after_s", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(error.to_json(), status_code=error.status_code, headers=headers)


@dataclass(frozen=True)
class Operation:
    """One API endpoint as OpenAPI sees it."""

    method: str
    path: str
    summary: str
    tag: str
    body: type[pydantic.BaseModel] | None = None
    query: type[pydantic.BaseModel] | None = None
    response: type[pydantic.BaseModel] | None = None
    status_code: int = 200
    auth: str | None = "bearer"
    errors: Sequence[int] = field(default=(400, 401, 404, 422))
    body_media_type: str = "application/json"
    max_body_bytes: int | None = None
    """A larger body limit than the app's for this route alone (file uploads)."""


@dataclass
class ApiRoutes:
    """Routes plus the operations that describe them; each package builds one.

    Paths are relative to the API's mount (`/api/v1`, service.app); a route is named after
    its endpoint unless `name` says otherwise, and is reached as `api:<name>`.
    """

    routes: list[Route] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)

    def add(self, endpoint: Endpoint, operation: Operation, *, name: str | None = None) -> None:
        handler = _caller_before_input(endpoint) if operation.auth else endpoint
        if idempotency.applies_to(operation.method, operation.auth):
            handler = idempotency.idempotent(handler, render_error=error_response)
        self.routes.append(
            Route(
                operation.path,
                handler,
                methods=[operation.method],
                name=name or endpoint.__name__,
                max_body_size=operation.max_body_bytes,
            )
        )
        self.operations.append(operation)


def _caller_before_input(endpoint: Endpoint) -> Endpoint:
    """Tell only a caller whose credentials hold what is wrong with the body or query.

    Endpoints parse their input before they open the transaction that authenticates, so a
    stranger would learn how an admin endpoint validates (422) instead of hearing 401. The
    credentials are checked when the input is refused, not on every call: a valid request
    pays nothing for it.
    """

    @functools.wraps(endpoint)
    async def caller_checked_first(request: Request) -> Response:
        try:
            return await endpoint(request)
        except (InvalidJson, InvalidInput):
            check: CallerCheck | None = getattr(request.app.state, "check_api_caller", None)
            if check is not None:
                await check(request)
            raise

    return caller_checked_first


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string"},
        "detail": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def openapi_document(
    operations: Sequence[Operation], *, title: str, version: str, prefix: str
) -> dict[str, Any]:
    models = {m for op in operations for m in (op.body, op.response, op.query) if m is not None}
    model_list = sorted(models, key=lambda m: m.__name__)
    mode_pairs: list[tuple[type[pydantic.BaseModel], JsonSchemaMode]] = [
        (m, "validation") for m in model_list
    ] + [(m, "serialization") for m in model_list]
    refs, definitions = models_json_schema(mode_pairs, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    schemas["Error"] = _ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(prefix + _openapi_path(op.path), {})[op.method.lower()] = _operation_object(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation_object(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": _operation_id(op),
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(converter)}
        for name, converter in _path_params(op.path)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            parameters.append(
                {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
            )
    idempotent = idempotency.applies_to(op.method, op.auth)
    if idempotent:
        parameters.append(idempotency.openapi_parameter())
    if parameters:
        result["parameters"] = parameters
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {op.body_media_type: {"schema": refs[(op.body, "validation")]}},
        }
    success: dict[str, Any] = {"description": "success"}
    if op.response is not None:
        success["content"] = {"application/json": {"schema": refs[(op.response, "serialization")]}}
    responses: dict[str, Any] = {str(op.status_code): success}
    # A bad key is a 400, a reused or busy one a 409 (service.web.idempotency).
    errors = sorted({*op.errors, 400, 409}) if idempotent else op.errors
    for status in errors:
        responses[str(status)] = {
            "description": "error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    result["responses"] = responses
    if op.auth:
        result["security"] = [{op.auth: []}]
    return result


def _path_params(path: str) -> list[tuple[str, str]]:
    """(name, converter) of each path parameter; a parameter without a converter is a str."""
    params = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            name, _, converter = part[1:-1].partition(":")
            params.append((name, converter or "str"))
    return params


def _path_schema(converter: str) -> dict[str, Any]:
    if converter == "uuid":
        return {"type": "string", "format": "uuid"}
    return {"type": "string", "minLength": 1, "maxLength": 200}


def _openapi_path(path: str) -> str:
    """'/campaigns/{campaign_id:uuid}' -> '/campaigns/{campaign_id}'."""
    return "/".join(
        "{" + part[1:-1].split(":")[0] + "}" if part.startswith("{") else part for part in path.split("/")
    )


def _operation_id(op: Operation) -> str:
    path = _openapi_path(op.path).strip("/").replace("/", "_").replace("{", "").replace("}", "")
    return f"{op.method.lower()}_{path.replace('-', '_')}"
