"""The sandbox inside the Goodloop app: mounted without a Stripe key, never in production."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import stripe

from service.app import create_app
from service.settings import SANDBOX_PATH, Environment, Settings
from service.stripe_gateway import create_client, request_options
from tests.conftest import TEST_SECRET_KEY
from tests.live_server import free_port, serve
from tests.service.stripe_sandbox.conftest import session_params


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    base = Settings(
        secret_key=TEST_SECRET_KEY,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        data_dir=tmp_path / "data",
        log_json=False,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


class TestMount:
    async def test_goodloops_own_client_talks_to_the_mounted_sandbox(self, tmp_path: Path) -> None:
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        settings = _settings(tmp_path, public_base_url=public, stripe_api_base=public + SANDBOX_PATH)

        with serve(settings, port=port):
            client = create_client(settings)
            session = await client.v1.checkout.sessions.create_async(
                session_params(), options=request_options("donation:1:checkout")
            )
            assert session.url is not None
            async with httpx.AsyncClient() as http:
                page = await http.get(session.url)

        assert session.url == f"{public}{SANDBOX_PATH}/checkout/{session.id}"
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert 'action="' + session.url + '"' in page.text

    async def test_production_never_mounts_the_sandbox(self, tmp_path: Path) -> None:
        settings = _settings(tmp_path, env=Environment.PRODUCTION, stripe_secret_key=None)
        app = create_app(settings, stripe_client=stripe.StripeClient("sk_test_unused"))

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get(
                f"{SANDBOX_PATH}/v1/events", headers={"Authorization": "Bearer sk_test_goodloop_sandbox"}
            )

        assert response.status_code == 404
        assert "Unrecognized request URL" not in response.text

    async def test_a_stripe_key_means_no_sandbox(self, tmp_path: Path) -> None:
        settings = _settings(tmp_path, stripe_secret_key="sk_test_real_stripe")
        app = create_app(settings)

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get(
                f"{SANDBOX_PATH}/v1/events", headers={"Authorization": "Bearer sk_test_goodloop_sandbox"}
            )

        assert response.status_code == 404
        assert "Unrecognized request URL" not in response.text
