from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import structlog

from service.logging import configure_logging


class TestHealth:
    async def test_healthz_and_readyz_answer_ok(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["database"] == "ok"

    async def test_readyz_is_503_when_the_database_is_gone(
        self, client: httpx.AsyncClient, app: object
    ) -> None:
        from service.db import Database

        broken = Database.from_url("postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none")
        real = app.state.database  # type: ignore[attr-defined]
        app.state.database = broken  # type: ignore[attr-defined]
        try:
            response = await client.get("/readyz")
        finally:
            app.state.database = real  # type: ignore[attr-defined]
            await broken.dispose()

        assert response.status_code == 503


class TestMetrics:
    async def test_metrics_count_requests_by_route_template(self, client: httpx.AsyncClient) -> None:
        await client.get("/api/v1/campaigns/00000000-0000-4000-8000-000000000000")

        text = (await client.get("/metrics")).text

        assert 'route="/api/v1/campaigns/{campaign_id:uuid}"' in text
        assert "00000000-0000-4000-8000-000000000000" not in text
        assert "goodloop_http_request_duration_seconds_bucket" in text


class TestRequestContext:
    async def test_every_response_carries_a_request_id_and_logs_it(
        self, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        root = logging.getLogger()
        saved = (root.handlers[:], root.level)
        configure_logging(json=True)
        try:
            response = await client.get("/healthz", headers={"X-Request-ID": "abc12345-trace"})
        finally:
            root.handlers[:], root.level = saved
            structlog.reset_defaults()

        assert response.headers["x-request-id"] == "abc12345-trace"
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
        access = [line for line in lines if line.get("event") == "request"]
        assert access, lines
        assert access[0]["request_id"] == "abc12345-trace"
        assert access[0]["status"] == 200

    async def test_unsafe_request_id_is_replaced(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "<script>"})

        assert response.headers["x-request-id"] != "<script>"
        assert len(response.headers["x-request-id"]) == 16


class TestSecurityHeaders:
    @pytest.mark.parametrize(
        "path", ["/", "/dashboard/login", "/api/v1/openapi.json", "/healthz", "/no-such-page"]
    )
    async def test_strict_headers_on_every_response(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)

        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["x-frame-options"] == "DENY"

    async def test_api_errors_are_json_with_code_and_detail(self, client: httpx.AsyncClient) -> None:
        missing = await client.get("/api/v1/no-such-thing")
        wrong_method = await client.delete("/api/v1/nonprofits")

        assert missing.status_code == 404
        assert missing.json()["error"] == "not_found"
        assert wrong_method.status_code == 405
        assert wrong_method.json()["error"] == "method_not_allowed"

    async def test_oversized_body_is_413(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/nonprofits", content=b"x" * (2 * 1024 * 1024))

        assert response.status_code == 413
        assert response.headers["x-content-type-options"] == "nosniff"
        assert len(response.headers["x-request-id"]) == 16

    async def test_oversized_chunked_body_is_413(self, client: httpx.AsyncClient) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(4):
                yield b"x" * (512 * 1024)

        response = await client.post("/api/v1/nonprofits", content=chunks())

        assert response.status_code == 413
