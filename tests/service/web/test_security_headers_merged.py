"""RequestContextMiddleware trusts a response's own merge of the security headers only when it
was made with the middleware's own defaults (service.web.middleware.WITH_SECURITY_HEADERS)."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from service.web.middleware import (
    WITH_SECURITY_HEADERS,
    RequestContextMiddleware,
    security_headers,
    with_security_headers,
)

PAGE = [(b"content-type", b"text/plain"), (b"content-length", b"2")]


def app_sending(marker: object, headers: list[tuple[bytes, bytes]]) -> RequestContextMiddleware:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": headers, WITH_SECURITY_HEADERS: marker}
        )
        await send({"type": "http.response.body", "body": b"ok"})

    return RequestContextMiddleware(app, hsts=True)


async def names(app: RequestContextMiddleware) -> list[str]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/")
    return [name for name, _ in response.headers.multi_items()]


async def test_headers_merged_with_the_middlewares_defaults_are_sent_as_merged() -> None:
    defaults = security_headers(hsts=True)
    merged = with_security_headers(PAGE, defaults)

    sent = await names(app_sending(defaults, list(merged)))

    assert sent == [name.decode() for name, _ in merged] + ["x-request-id"]
    assert len(sent) == len(set(sent)), "no header twice"


@pytest.mark.parametrize("marker", [security_headers(hsts=False), True, None], ids=["other", "true", "none"])
async def test_a_response_claiming_another_merge_gets_the_middlewares_headers(marker: object) -> None:
    sent = await names(app_sending(marker, list(PAGE)))

    assert "strict-transport-security" in sent
    assert "content-security-policy" in sent
    assert "x-content-type-options" in sent
