"""The `/v1` endpoints: auth, form decoding, idempotency, expansion and Stripe-shaped errors.

Each endpoint is a plain function `(ApiCall) -> Result` run with the state lock held, so it
is atomic; the events it returns are delivered after the lock is released.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.stripe_sandbox.errors import StripeApiError
from service.stripe_sandbox.forms import FormDecodeError, parse_form
from service.stripe_sandbox.objects import Obj, new_id
from service.stripe_sandbox.state import SandboxState, StoredResponse

_TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")


@dataclass
class ApiCall:
    state: SandboxState
    params: Obj
    path_params: dict[str, str]
    base_url: str
    request_info: Obj

    def path(self, name: str) -> str:
        return self.path_params[name]


@dataclass
class Result:
    body: Obj
    events: list[Obj] = field(default_factory=list)
    status_code: int = 200


Handler = Callable[[ApiCall], Result]


def sandbox_state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def sandbox_base_url(request: Request) -> str:
    """Where the sandbox is reachable, as seen by the caller (honours the mount path)."""
    # Not request.base_url: under a Mount that drops the mount path; root_path keeps it.
    root = str(request.scope.get("root_path", ""))
    return str(request.url.replace(path=root, query="")).rstrip("/")


def stripe_error_response(error: StripeApiError, *, request_id: str | None = None) -> JSONResponse:
    headers = {"Request-Id": request_id} if request_id else None
    return JSONResponse(error.to_json(), status_code=error.status_code, headers=headers)


def _authenticate(request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key:
        raise StripeApiError(
            "You did not provide an API key. Provide it in the Authorization header as a Bearer token.",
            status_code=401,
        )
    if not key.startswith(_TEST_KEY_PREFIXES):
        raise StripeApiError(
            "Invalid API Key provided: the Goodloop sandbox only accepts test keys (sk_test_...).",
            status_code=401,
        )


async def _read_params(request: Request) -> tuple[Obj, str]:
    # The SDK sends a DELETE's params in the query string, like a GET's.
    raw = request.url.query if request.method in ("GET", "DELETE") else (await request.body()).decode()
    try:
        return parse_form(raw), raw
    except FormDecodeError as e:
        raise StripeApiError(str(e), param=e.param) from e
    except UnicodeDecodeError as e:
        raise StripeApiError("The request body is not valid UTF-8.") from e


def _fingerprint(request: Request, params: Obj) -> str:
    canonical = json.dumps([request.method, request.url.path, params], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(stored: StoredResponse, request_id: str, key: str) -> Response:
    headers = {"Idempotent-Replayed": "true", "Idempotency-Key": key, "Request-Id": request_id}
    return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)


def expand(state: SandboxState, obj: Obj, paths: list[str]) -> Obj:
    """Replace id strings named by `expand[]` paths (dot-separated) with the objects."""
    result = copy.deepcopy(obj)
    for path in paths:
        _expand_path(state, result, path.split("."))
    return result


def _expand_path(state: SandboxState, node: Obj, parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    value = node.get(head)
    if isinstance(value, str) and value in state.objects:
        value = node[head] = copy.deepcopy(state.objects[value])
    if rest and isinstance(value, dict):
        _expand_path(state, value, rest)


def _expand_paths(params: Obj) -> list[str]:
    raw = params.get("expand", [])
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and all(isinstance(p, str) for p in raw):
        return raw
    raise StripeApiError("Invalid array: expand", param="expand")


def endpoint(handler: Handler) -> Callable[[Request], Any]:
    async def run(request: Request) -> Response:
        request_id = new_id("req_", 14)
        try:
            return await _run(request, handler, request_id)
        except StripeApiError as e:
            return stripe_error_response(e, request_id=request_id)

    return run


async def _run(request: Request, handler: Handler, request_id: str) -> Response:
    _authenticate(request)
    params, _raw = await _read_params(request)
    state = sandbox_state(request)
    key = request.headers.get("idempotency-key") if request.method == "POST" else None
    fingerprint = _fingerprint(request, params)
    call = ApiCall(
        state=state,
        params=params,
        path_params=dict(request.path_params),
        base_url=sandbox_base_url(request),
        request_info={"id": request_id, "idempotency_key": key},
    )
    async with state.lock:
        stored = state.idempotency.get(key) if key else None
        if stored is not None and key is not None:
            if stored.fingerprint != fingerprint:
                raise StripeApiError(
                    "Keys for idempotent requests can only be used with the same parameters they were "
                    f"first used with. Try using a key other than '{key}' if you meant to execute a "
                    "different request.",
                    type="idempotency_error",
                )
            return _replay(stored, request_id, key)
        try:
            result = handler(call)
            body = expand(state, result.body, _expand_paths(params))
            status_code = result.status_code
        except StripeApiError as e:
            # Stripe stores the outcome of a request that ran, failed payments included.
            if key and e.status_code == 402:
                state.idempotency[key] = StoredResponse(fingerprint, e.status_code, e.to_json())
            raise
        if key:
            state.idempotency[key] = StoredResponse(fingerprint, status_code, body)
    state.deliverer.send(result.events)
    headers = {"Request-Id": request_id}
    if key:
        headers["Idempotency-Key"] = key
    return JSONResponse(body, status_code=status_code, headers=headers)


def api_routes(handlers: list[tuple[str, str, Handler]]) -> list[Route]:
    return [
        Route(path, endpoint(handler), methods=[method], name=handler.__name__)
        for method, path, handler in handlers
    ]
