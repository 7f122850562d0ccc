"""PostgreSQL: checkouts, webhook batches, hold releases and admin approvals all at once, across
three matching programs on shared campaigns, never deadlock and never answer 5xx.

The lock order every path follows is written in docs/architecture.md ("Lock order"). The
database itself is the witness: `pg_stat_database.deadlocks` for the test database must not
move, so a deadlock the retry safety net hid would still fail this test.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation
from campaigns.matching import rounds
from campaigns.matching.models import Match, MatchStatus
from service.app import create_app
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from tests import databases
from tests.builders import AdminUser, insert_admin
from tests.campaigns.matching.helpers import World, make_program, make_world_with_org
from tests.payouts.helpers import Sandbox
from tests.webhooks import stripe_events
from tests.webhooks.builders import LiveCampaign, clone_campaign, process_all
from webhooks import processor
from webhooks.commands import check_ledger
from webhooks.models import WebhookEvent

CHECKOUTS = 12
"""Donors starting a checkout during the storm (each from its own browser and network)..."""
STREAMS = 4
"""...arriving in this many streams, one after another in each, so they span the storm."""
PAID = 8
"""Donors whose payment's webhooks arrive during the storm."""
DECIDED = 3
"""Gifts settled before the storm whose matches (one per program) admins approve during it."""
PROCESSORS = 3
"""Webhook workers sharing the inbox (SKIP LOCKED)..."""
BATCH = 5
"""...in small batches, so several are in flight beside the checkouts."""
REVIEWERS = 3
"""Admins deciding at once (one admin's own requests queue on its row: see the lock order)."""


@pytest.fixture
async def app(settings: Settings, database: Database, sandbox: Sandbox) -> AsyncIterator[Starlette]:
    """The app with the real SDK talking to the Stripe sandbox on a loopback port."""
    application = create_app(settings, database=database, stripe_client=sandbox.client)
    async with application.router.lifespan_context(application):
        yield application


def browser(app: Starlette, n: int) -> httpx.AsyncClient:
    """One donor's browser: its own address, so per-network limits see distinct people."""
    transport = httpx.ASGITransport(app=app, client=(f"198.51.{n // 250}.{n % 250 + 1}", 40000 + n))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@dataclass
class Storm:
    world: World
    sandbox: Sandbox
    app: Starlette
    slugs: list[str]
    reviewers: list[AdminUser]
    answers: list[tuple[str, int, str]] = field(default_factory=list)
    """(what, status, body) of every request the storm made."""

    def answered(self, what: str, response: httpx.Response) -> httpx.Response:
        self.answers.append((what, response.status_code, response.text[:300]))
        return response

    async def checkout(self, n: int) -> httpx.Response:
        async with browser(self.app, n) as http:
            response = await http.post(
                f"/api/v1/public/campaigns/{self.slugs[n % len(self.slugs)]}/checkout",
                json={"amount_minor": 2_500, "currency": "eur", "email": f"donor-{n}@example.org"},
            )
        return self.answered("checkout", response)

    async def pay(self, started: httpx.Response) -> None:
        """The donor pays on the sandbox's Checkout page; its webhooks wait in the sandbox."""
        assert started.status_code == 201, started.text
        async with self.world.database.transaction() as session:
            session_id = await session.scalar(
                sa.select(Donation.stripe_checkout_session_id).where(
                    Donation.id == uuid.UUID(started.json()["donation_id"])
                )
            )
        assert session_id is not None
        await self.sandbox.control(f"sessions/{session_id}/pay")

    async def deliver(self, event: dict[str, Any]) -> None:
        connect = event.get("account") is not None
        payload = stripe_events.encode(event)
        settings = self.world.settings
        secret = settings.connect_webhook_secret if connect else settings.webhook_secret
        response = await self.world.client.post(
            "/webhooks/stripe/connect" if connect else "/webhooks/stripe",
            content=payload,
            headers=stripe_events.signed_headers(payload, secret),
        )
        self.answered("webhook", response)

    async def approve(self, n: int, match_id: uuid.UUID) -> None:
        reviewer = self.reviewers[n % len(self.reviewers)]
        response = await self.world.client.post(
            f"/api/v1/admin/matches/{match_id}/approve", json={}, headers=reviewer.headers
        )
        self.answered("approve", response)

    async def bulk_approve(self, match_ids: list[uuid.UUID]) -> None:
        response = await self.world.client.post(
            "/api/v1/admin/matches/bulk-approve",
            json={"match_ids": [str(m) for m in match_ids]},
            headers=self.reviewers[0].headers,
        )
        self.answered("bulk_approve", response)


STATS_WAIT_POLLS = 1_200
"""At 50 ms a poll, a minute at most: idle backends flush within ten seconds."""


async def deadlocks(url: str) -> int:
    """Deadlocks PostgreSQL detected in the test database so far.

    A backend reports its counters when it exits or, idle, within PGSTAT_IDLE_INTERVAL (ten
    seconds): callers close the app's connections first, and every other backend is waited out
    until it has left or sat idle past that interval, so the figure is whole. A connection left
    open by an earlier test in the session (the database is shared) has long flushed, and must
    not keep this loop waiting; the wait is bounded besides. The suite's resetting connection
    (tests/databases.py) runs between tests only, never in the storm.

    Each poll is a transaction of its own (autocommit): inside one transaction pg_stat_activity
    is read once and now() stands still, so the loop would see the first answer for a minute.
    """
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for _ in range(STATS_WAIT_POLLS):
                busy = await conn.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND application_name <> :resetter "
                        "AND NOT (state = 'idle' "
                        "AND state_change < clock_timestamp() - interval '11 seconds')"
                    ),
                    {"resetter": databases.RESET_APPLICATION_NAME},
                )
                if not busy:
                    break
                await asyncio.sleep(0.05)
            await conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            found = await conn.scalar(
                sa.text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            )
        return int(found or 0)
    finally:
        await engine.dispose()


def counted(name: str, *, labelled: frozenset[str] = frozenset()) -> float:
    """The process's Prometheus counter `name`, summed over children carrying any of `labelled`
    as a label value (all children when empty)."""
    total = 0.0
    for family in REGISTRY.collect():
        for sample in family.samples:
            if sample.name == name and (not labelled or labelled & set(sample.labels.values())):
                total += sample.value
    return total


def failures() -> float:
    """Units of work that failed: webhook events that errored (not merely early) or went dead,
    worker jobs that raised."""
    return counted("goodloop_webhook_failures_total", labelled=frozenset({"error", "dead"})) + counted(
        "goodloop_worker_job_runs_total", labelled=frozenset({"error"})
    )


def retries() -> float:
    """Units of work the retry safety net ran again (goodloop_db_retries_total)."""
    return counted("goodloop_db_retries_total")


async def pending_matches(database: Database) -> list[uuid.UUID]:
    async with database.transaction() as session:
        rows = await session.scalars(
            sa.select(Match.id).where(Match.status == MatchStatus.PENDING).order_by(Match.id)
        )
        return list(rows.all())


async def until_quiet(work: Callable[[], Awaitable[int]], delivered: asyncio.Event) -> None:
    """A worker loop: go on while deliveries are still coming or the last pass found work."""
    while True:
        done = await work()
        if done == 0 and delivered.is_set():
            return
        if done == 0:
            await asyncio.sleep(0.01)


async def shared_campaign_slugs(database: Database, world: World) -> list[str]:
    """The world's campaign and two more of the same nonprofit."""
    campaigns: list[LiveCampaign] = [
        world.campaign,
        await clone_campaign(database, world.campaign),
        await clone_campaign(database, world.campaign),
    ]
    async with database.transaction() as session:
        rows = await session.scalars(
            sa.select(Campaign.slug).where(Campaign.id.in_([c.id for c in campaigns]))
        )
        return list(rows.all())


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
class TestMixedLoad:
    async def test_checkouts_webhooks_approvals_and_hold_releases_never_deadlock(
        self,
        app: Starlette,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        sandbox: Sandbox,
        db_url: str,
    ) -> None:
        world, _org = await make_world_with_org(client, database, settings)
        reviewers = [world.reviewer] + [
            await insert_admin(database, role=AdminRole.REVIEWER) for _ in range(REVIEWERS - 1)
        ]
        storm = Storm(world, sandbox, app, await shared_campaign_slugs(database, world), reviewers)
        # Three pools that every campaign shares; no hold, so the chores decide matches at once.
        for name, ratio in (("first", 10_000), ("second", 5_000), ("third", 2_500)):
            await make_program(
                world,
                name=name,
                budget_minor=5_000_000,
                hold_days=0,
                policy={"policy": "fixed_ratio", "ratio_bps": ratio},
            )

        # Before the storm: matches waiting for a decision, and payments whose webhooks wait.
        for n in range(DECIDED):
            await storm.pay(await storm.checkout(1_000 + n))
        for event in sandbox.fresh_events():
            await storm.deliver(event)
        await process_all(database)
        to_decide = await pending_matches(database)
        assert len(to_decide) == DECIDED * 3
        for n in range(PAID):
            await storm.pay(await storm.checkout(2_000 + n))
        waiting = sandbox.fresh_events()
        assert len(waiting) >= PAID * 2
        storm.answers.clear()
        # Both pools: the webhook intake's own asyncpg pool too (Database.driver_connection), whose
        # idle connections would otherwise keep deadlocks() waiting for their stats.
        await database.dispose()
        deadlocks_before, failures_before, retries_before = await deadlocks(db_url), failures(), retries()

        # Half the webhooks are a backlog when the storm starts, half arrive during it.
        backlog, arriving = waiting[: len(waiting) // 2], waiting[len(waiting) // 2 :]
        for event in backlog:
            await storm.deliver(event)
        delivered = asyncio.Event()

        async def deliveries() -> None:
            await asyncio.gather(*(storm.deliver(event) for event in arriving))
            delivered.set()

        async def donors(stream: int) -> None:
            for n in range(stream, CHECKOUTS, STREAMS):
                await storm.checkout(n)

        half = len(to_decide) // 2
        await asyncio.gather(
            *(donors(stream) for stream in range(STREAMS)),
            deliveries(),
            *(
                until_quiet(lambda: processor.process_due_events(database, limit=BATCH), delivered)
                for _ in range(PROCESSORS)
            ),
            *(storm.approve(n, match_id) for n, match_id in enumerate(to_decide[:half])),
            storm.bulk_approve(to_decide[half:]),
            *(until_quiet(lambda: rounds.run_matching_chores(database), delivered) for _ in range(2)),
        )
        await process_all(database)  # events that came before their siblings, due again

        await database.dispose()
        assert await deadlocks(db_url) == deadlocks_before
        assert [a for a in storm.answers if a[1] >= 500] == []
        # 409: the hold release decided the match first; a fine outcome, not a failure.
        assert {(what, status) for what, status, _ in storm.answers} <= {
            ("checkout", 201),
            ("webhook", 200),
            ("approve", 200),
            ("approve", 409),
            ("bulk_approve", 200),
        }, storm.answers
        assert failures() == failures_before
        assert retries() == retries_before, "no unit of work needed the safety net"
        async with database.transaction() as session:
            unprocessed = await session.scalar(
                sa.select(sa.func.count()).where(WebhookEvent.processed_at.is_(None))
            )
        assert unprocessed == 0
        assert await check_ledger(database) == []
