"""The app served on a loopback port with the Stripe sandbox mounted and the worker running."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import stripe

from campaigns.donations.models import Donation
from service.db import Database
from service.settings import SANDBOX_API_KEY, SANDBOX_PATH, Settings
from tests.conftest import TEST_SECRET_KEY
from tests.live_server import free_port, serve


@dataclass(frozen=True)
class Served:
    url: str
    settings: Settings

    @property
    def stripe_base(self) -> str:
        return self.url + SANDBOX_PATH

    def stripe(self) -> stripe.StripeClient:
        base = self.stripe_base
        return stripe.StripeClient(
            SANDBOX_API_KEY,
            base_addresses={"api": base, "connect": base, "files": base},
            http_client=stripe.HTTPXClient(),
            max_network_retries=0,
        )

    async def control(self, http: httpx.AsyncClient, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await http.post(f"{self.stripe_base}/_control/{path}", json=body or {})
        assert response.status_code == 200, response.text
        return response.json()


def sandbox_settings(database_url: str, data_dir: Path, port: int) -> Settings:
    base = f"http://127.0.0.1:{port}"
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        public_base_url=base,
        stripe_api_base=base + SANDBOX_PATH,
        data_dir=data_dir,
        log_json=False,
    )


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    settings = sandbox_settings(db_url, tmp_path / "data", port)
    with serve(settings, port=port, run_worker=True) as url:
        yield Served(url=url, settings=settings)


async def wait_for_donation(
    database: Database, donation_id: uuid.UUID, *, status: str, timeout: float = 20
) -> Donation:
    """Webhooks arrive asynchronously; poll until the worker has applied them."""
    deadline = time.monotonic() + timeout
    while True:
        async with database.transaction() as session:
            donation = await session.scalar(
                sa.select(Donation)
                .where(Donation.id == donation_id)
                .execution_options(populate_existing=True)
            )
        assert donation is not None
        if donation.status.value == status or time.monotonic() > deadline:
            return donation
        await asyncio.sleep(0.2)
