"""PostgreSQL only: a worker killed at random points, and the database going away mid-run."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from campaigns.donations.checks import check_books
from campaigns.donations.models import Donation
from service.app import create_app
from service.db import Database
from service.settings import Settings
from service.worker import Worker
from tests.webhooks import stripe_events
from tests.webhooks.builders import LiveCampaign, deliver, process_all
from tests.webhooks.proxy import Proxy
from tests.webhooks.scenarios import DESTINATION, SCENARIOS
from tests.webhooks.stripe_events import Payment
from webhooks.models import WebhookEvent
from webhooks.processor import JOB

GOODLOOP = str(Path(sys.executable).parent / "goodloop")
CRASH_SCENARIOS = ("card", "partial_refund", "full_refund", "dispute_lost", "delayed_success", "transferred")
Event = dict[str, Any]


@pytest.fixture
def postgres_only(db_url: str) -> str:
    assert db_url.startswith("postgresql"), "these tests are parametrised on PostgreSQL only"
    return db_url


# PostgreSQL only (a killed worker and a vanished server): run just that backend rather than
# reporting a SQLite variant as skipped.
ON_POSTGRES = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


async def bulk_donations(database: Database, campaign: LiveCampaign, *, count: int) -> list[Event]:
    """`count` pending donations in one transaction, and their events in Stripe's usual order."""
    payments = []
    async with database.transaction() as session:
        for i in range(count):
            donation_id = uuid.uuid4()
            session_id = stripe_events.new_id("cs_test")
            amount = 1000 + 37 * i
            session.add(
                Donation(
                    id=donation_id,
                    campaign_id=campaign.id,
                    nonprofit_id=campaign.nonprofit_id,
                    amount_minor=amount,
                    currency=campaign.currency,
                    donor_email=f"donor{i % 50}@example.org",
                    stripe_checkout_session_id=session_id,
                    destination_account_id=DESTINATION,
                )
            )
            payments.append(
                Payment(
                    donation_id=donation_id,
                    session_id=session_id,
                    amount_minor=amount,
                    currency="eur",
                    destination=DESTINATION,
                )
            )
    events: list[Event] = []
    for i, payment in enumerate(payments):
        events.extend(SCENARIOS[CRASH_SCENARIOS[i % len(CRASH_SCENARIOS)]](payment))
    return events


async def unprocessed(database: Database) -> int:
    async with database.transaction() as session:
        count = await session.scalar(
            sa.select(sa.func.count()).select_from(WebhookEvent).where(WebhookEvent.processed_at.is_(None))
        )
    return int(count or 0)


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [GOODLOOP, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def worker_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("GOODLOOP_", "STRIPE_", "DATABASE_URL"))
    }
    return {
        **clean,
        "DATABASE_URL": db_url,
        "GOODLOOP_DATA_DIR": str(tmp_path / "worker"),
        "GOODLOOP_LOG_FORMAT": "json",
    }


@ON_POSTGRES
class TestWorkerKilled:
    async def test_sigkill_at_random_points_processes_every_event_exactly_once(
        self,
        postgres_only: str,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        campaign: LiveCampaign,
        tmp_path: Path,
    ) -> None:
        events = await bulk_donations(database, campaign, count=400)
        assert len(events) >= 1500
        for evt in events:
            assert (await deliver(client, evt, settings.webhook_secret)).status_code == 200
        rng = random.Random(4)
        env = worker_env(postgres_only, tmp_path)
        mid_run_kills = 0
        # Kill the worker at random moments: now and then during startup, mostly just after
        # it has committed some progress, so a batch may be cut off anywhere between its
        # first effect and its commit. The worker is fast, so waiting for progress (not a
        # fixed delay) is what lands the kills mid-run. Then let one worker finish.
        for attempt in range(10):
            left = await unprocessed(database)
            if left == 0:
                break
            process = start_worker(env)
            if attempt % 4 == 0:
                await asyncio.sleep(rng.uniform(0.05, 0.6))
            else:
                while await unprocessed(database) == left and process.poll() is None:
                    await asyncio.sleep(0.005)
                await asyncio.sleep(rng.uniform(0.0, 0.05))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            if 0 < await unprocessed(database) < len(events):
                mid_run_kills += 1
        left_after_kills = await unprocessed(database)
        process = start_worker(env)
        try:
            for _ in range(600):
                if await unprocessed(database) == 0:
                    break
                await asyncio.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)

        assert left_after_kills < len(events), "the killed workers must have made progress"
        assert mid_run_kills >= 3, "the worker must have been killed mid-run several times"
        assert await unprocessed(database) == 0
        async with database.transaction() as session:
            attempts = set((await session.scalars(sa.select(WebhookEvent.attempts))).all())
            total = await session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent))
            # attempts counts committed outcomes: exactly one per event means none ran twice.
            assert (attempts, total) == ({1}, len(events))
            assert await check_books(session) == []


@ON_POSTGRES
class TestDatabaseOutage:
    async def test_webhooks_get_503_while_the_database_is_away_and_nothing_is_lost(
        self,
        postgres_only: str,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        campaign: LiveCampaign,
    ) -> None:
        events = await bulk_donations(database, campaign, count=30)
        url = make_url(postgres_only)
        proxy = Proxy(target_host=url.host or "127.0.0.1", target_port=url.port or 5432)
        await proxy.start()
        proxied = Database.from_url(
            url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        )
        app = create_app(settings, database=proxied)
        worker = Worker(proxied, [JOB])
        statuses: list[int] = []
        owed: list[Event] = []
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://testserver"
                ) as outage_client:
                    for i, evt in enumerate(events):
                        if i == len(events) // 3:
                            await proxy.cut()
                        if i == 2 * len(events) // 3:
                            await proxy.start()
                        response = await deliver(outage_client, evt, settings.webhook_secret)
                        statuses.append(response.status_code)
                        if response.status_code != 200:
                            owed.append(evt)
                        if i % 10 == 0:
                            await worker.run_once()  # must not raise, whatever the database does
                    # Stripe redelivers what was refused.
                    for evt in owed:
                        assert (await deliver(outage_client, evt, settings.webhook_secret)).status_code == 200
        finally:
            await proxied.dispose()
            if proxy._server is not None:
                await proxy.cut()
        await process_all(database)

        assert set(statuses) == {200, 503}
        assert len(owed) >= len(events) // 3 - 1
        assert await unprocessed(database) == 0
        async with database.transaction() as session:
            total = await session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent))
            assert total == len(events)
            assert await check_books(session) == []
