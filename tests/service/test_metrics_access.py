"""/metrics tells anyone who can read it the routes, traffic and failures of the platform: in
production it is closed unless a bearer token is set or it is served on an address of its own."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from service.app import create_app
from service.db import Database
from service.settings import Environment, Settings
from tests.live_server import free_port
from tests.service.test_cli import GOODLOOP

TOKEN = "mT9q2Lx7Vb4Nc8Zr1Ws6Hd3Kf5Jp0Ga"


@pytest.fixture
def variant() -> dict[str, object]:
    return {}


@pytest.fixture
async def metrics_client(
    settings: Settings, database: Database, variant: dict[str, object]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app built with the settings the test names (through `variant`)."""
    app = create_app(dataclasses.replace(settings, **variant), database=database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


PRODUCTION = {"env": Environment.PRODUCTION}
# Nothing here reads the database: one backend is enough.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@SQLITE_ONLY
class TestMetricsAccess:
    async def test_development_without_a_token_is_open(self, metrics_client: httpx.AsyncClient) -> None:
        response = await metrics_client.get("/metrics")

        assert response.status_code == 200
        assert "goodloop_http_requests_total" in response.text

    @pytest.mark.parametrize("variant", [PRODUCTION], ids=["production"])
    async def test_production_without_a_token_is_closed(self, metrics_client: httpx.AsyncClient) -> None:
        anonymous = await metrics_client.get("/metrics")
        guessing = await metrics_client.get("/metrics", headers=bearer(TOKEN))

        assert (anonymous.status_code, guessing.status_code) == (404, 404)
        assert "goodloop_http" not in anonymous.text + guessing.text

    @pytest.mark.parametrize(
        "variant",
        [{**PRODUCTION, "metrics_token": TOKEN}, {"metrics_token": TOKEN}],
        ids=["production", "development"],
    )
    async def test_with_a_token_only_the_token_opens_it(self, metrics_client: httpx.AsyncClient) -> None:
        anonymous = await metrics_client.get("/metrics")
        wrong = await metrics_client.get("/metrics", headers=bearer(TOKEN[:-1] + "x"))
        prefix = await metrics_client.get("/metrics", headers=bearer(TOKEN[:8]))
        other_scheme = await metrics_client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
        right = await metrics_client.get("/metrics", headers=bearer(TOKEN))

        for refused in (anonymous, wrong, prefix, other_scheme):
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert refused.json()["error"] == "unauthenticated"
        assert right.status_code == 200
        assert "goodloop_http_requests_total" in right.text

    @pytest.mark.parametrize(
        "variant",
        [{**PRODUCTION, "metrics_address": ("127.0.0.1", 9100), "metrics_token": TOKEN}],
        ids=["production"],
    )
    async def test_served_on_its_own_address_the_public_port_has_none(
        self, metrics_client: httpx.AsyncClient
    ) -> None:
        response = await metrics_client.get("/metrics", headers=bearer(TOKEN))

        assert response.status_code == 404


@pytest.fixture
def served_with_metrics_address(tmp_path: Path) -> Iterator[tuple[str, str]]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("GOODLOOP_", "STRIPE_", "DATABASE_URL"))
    }
    port, metrics_port = free_port(), free_port()
    env = {
        **clean,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}",
        "GOODLOOP_DATA_DIR": str(tmp_path / "data"),
        "GOODLOOP_LOG_FORMAT": "json",
        "GOODLOOP_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
    }
    process = subprocess.Popen(
        [GOODLOOP, "serve", "--no-worker", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base, f"http://127.0.0.1:{metrics_port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


class TestMetricsAddress:
    def test_goodloop_serve_serves_metrics_on_their_own_address(
        self, served_with_metrics_address: tuple[str, str]
    ) -> None:
        base, metrics_base = served_with_metrics_address
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200

        public = httpx.get(f"{base}/metrics", timeout=5)
        private = httpx.get(f"{metrics_base}/metrics", timeout=5)

        assert public.status_code == 404
        assert private.status_code == 200
        # The web process's own counters, the request above among them.
        assert 'goodloop_http_requests_total{method="GET",route="/healthz",status="200"}' in private.text
