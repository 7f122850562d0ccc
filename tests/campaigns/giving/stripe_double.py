"""A Stripe HTTP double under the real SDK: records every call, answers like Stripe, or fails.

It sits at the boundary (the SDK's HTTP client), so everything above it, params encoding and
idempotency headers included, is the real `stripe` library.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import anyio
import stripe


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None


@dataclass
class StripeDouble(stripe.HTTPClient):
    name: ClassVar[str] = "double"
    fail_with: int | None = None
    """An HTTP status to answer every call with (e.g. 500), or 0 for a network error."""
    calls: list[Call] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    _by_key: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        stripe.HTTPClient.__init__(self)

    def sleep_async(self, secs: float) -> Awaitable[None]:
        return anyio.sleep(0)

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        parts = urlsplit(url)
        raw = post_data.decode() if isinstance(post_data, bytes) else (post_data or parts.query)
        params = dict(parse_qsl(raw))
        key = headers.get("Idempotency-Key")
        self.calls.append(Call(method.upper(), parts.path, params, key))
        if self.fail_with == 0:
            raise stripe.APIConnectionError("the double is unreachable")
        if self.fail_with is not None:
            body = {"error": {"type": "api_error", "message": "the double is failing"}}
            return json.dumps(body).encode(), self.fail_with, {}
        if method.upper() == "POST" and parts.path == "/v1/checkout/sessions":
            return self._answer(self._create_session(params, key))
        return (
            json.dumps({"error": {"type": "invalid_request_error", "message": "not faked"}}).encode(),
            404,
            {},
        )

    def _create_session(self, params: dict[str, str], key: str | None) -> dict[str, Any]:
        if key is not None and key in self._by_key:
            return self._by_key[key]
        session_id = f"cs_test_{secrets.token_hex(12)}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "mode": params.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
        }
        self.sessions[session_id] = {**session, "params": params}
        if key is not None:
            self._by_key[key] = session
        return session

    def _answer(self, body: dict[str, Any]) -> tuple[bytes, int, Mapping[str, str]]:
        return json.dumps(body).encode(), 200, {"request-id": "req_double"}

    async def close_async(self) -> None:
        return None

    def checkout_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path == "/v1/checkout/sessions" and c.method == "POST"]
