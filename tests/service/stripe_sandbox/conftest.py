"""The sandbox served on a loopback port, the real SDK pointed at it, a webhook capture server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from service.settings import SANDBOX_API_KEY, Settings
from service.stripe_sandbox.app import create_sandbox_app
from service.stripe_sandbox.state import SandboxState
from tests.conftest import TEST_SECRET_KEY
from tests.service.stripe_sandbox.servers import Capture, serve_asgi


@pytest.fixture
def sandbox_settings(tmp_path: Path) -> Settings:
    return Settings(
        secret_key=TEST_SECRET_KEY,
        public_base_url="http://127.0.0.1:9",
        data_dir=tmp_path / "data",
        log_json=False,
    )


@pytest.fixture
def capture(sandbox_settings: Settings) -> Iterator[tuple[Capture, str]]:
    received = Capture(
        platform_secret=sandbox_settings.webhook_secret,
        connect_secret=sandbox_settings.connect_webhook_secret,
    )
    with serve_asgi(received.app()) as url:
        yield received, url


@dataclass
class Sandbox:
    url: str
    state: SandboxState
    client: stripe.StripeClient
    http: httpx.AsyncClient
    captured: Capture

    async def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(f"{self.url}/_control/{path}", json=body or {})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def flush(self) -> dict[str, Any]:
        return await self.control("deliveries/flush")


def sdk_client(base_url: str, api_key: str = SANDBOX_API_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": base_url, "connect": base_url, "files": base_url},
        http_client=stripe.HTTPXClient(),
        max_network_retries=0,
    )


@pytest.fixture
async def sandbox(sandbox_settings: Settings, capture: tuple[Capture, str]) -> AsyncIterator[Sandbox]:
    captured, capture_url = capture
    app = create_sandbox_app(sandbox_settings, webhook_base_url=capture_url, settle_after_s=None)
    with serve_asgi(app) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            yield Sandbox(
                url=url, state=app.state.sandbox, client=sdk_client(url), http=http, captured=captured
            )


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "submit_type": "donate",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 2_500,
                    "product_data": {"name": "Donation to Clean Rivers"},
                },
            }
        ],
        "customer_email": "donor@example.org",
        "metadata": {"donation_id": "don_123", "campaign": "rivers"},
        "payment_intent_data": {"metadata": {"donation_id": "don_123"}},
        "success_url": "http://127.0.0.1:9/thanks?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:9/campaigns/rivers",
    }
    params.update(overrides)
    return params
