"""Live progress: GET /c/{slug}/live over a real socket, fed by real confirmations.

The app is served by uvicorn on a loopback port with its own Database; gifts are confirmed by
webhooks signed as Stripe signs them. On SQLite the app's in-process worker confirms them (the
single-process default); on PostgreSQL the test's own Database and processor do, so only
LISTEN/NOTIFY can carry the news to the app. No timing assertions: events are awaited with
generous timeouts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from campaigns.campaign.models import Campaign
from campaigns.donations import settlement
from campaigns.donations.models import Donation
from campaigns.donations.repository import DonationRef
from service.app import create_app
from service.db import Database
from service.live import APPLICATION_NAME, MAX_PAYLOAD_BYTES, QUEUE_LIMIT, LiveBroker, Message, Subscription
from service.settings import Settings, SettingsError, load_settings
from tests import builders, databases
from tests.conftest import TEST_SECRET_KEY
from tests.live_server import free_port, serve_asgi
from tests.webhooks import stripe_events
from tests.webhooks.builders import LiveCampaign, deliver, insert_donation, process_all

WAIT_S = 30.0
"""Generous: how long a test waits for an event before it fails (never a timing assertion)."""


@dataclass
class Site:
    url: str
    app: Starlette
    settings: Settings
    database: Database
    """The test's own Database, not the app's."""
    separate_worker: bool

    @property
    def broker(self) -> LiveBroker:
        live: LiveBroker = self.app.state.live
        return live

    async def confirm(self, client: httpx.AsyncClient, payment: stripe_events.Payment) -> None:
        """Stripe says the Checkout Session was paid; the worker confirms the gift."""
        evt = stripe_events.event("checkout.session.completed", payment.checkout_session())
        response = await deliver(client, evt, self.settings.webhook_secret)
        assert response.status_code == 200, response.text
        if self.separate_worker:
            await process_all(self.database)


@contextmanager
def served(settings: Settings, database: Database, **overrides: Any) -> Iterator[Site]:
    port = free_port()
    config = dataclasses.replace(settings, public_base_url=f"http://127.0.0.1:{port}", **overrides)
    # SQLite is one process: the app's own worker confirms. PostgreSQL: the test's processor.
    in_process = config.is_sqlite
    app = create_app(config, run_worker=in_process)
    with serve_asgi(app, port=port, lifespan="on") as url:
        yield Site(url=url, app=app, settings=config, database=database, separate_worker=not in_process)


async def live_campaign(client: httpx.AsyncClient, database: Database) -> tuple[LiveCampaign, str]:
    org = await builders.sign_up(client)
    admin = await builders.insert_admin(database)
    await builders.verify(client, admin, org)
    body = await builders.live_campaign(client, org, admin, goal_minor=10_000)
    campaign = LiveCampaign(
        id=uuid.UUID(body["id"]), nonprofit_id=uuid.UUID(org.id), currency=body["currency"]
    )
    return campaign, body["slug"]


async def confirm_then_crash(database: Database, donation_id: uuid.UUID) -> None:
    async with database.transaction() as session:
        await settlement.confirm_donation(session, ref=DonationRef(donation_id=donation_id))
        # The unit's own work ran (totals, and with them the notification)...
        await session.finish()
        raise RuntimeError("crash before commit")  # ... but it never commits.


class EventReader:
    """Reads a text/event-stream: events as (name, data), comments as ("", text)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self.comments: list[str] = []
        self.retry: str | None = None

    async def _next(self, *, comments: bool) -> tuple[str, Any]:
        name, data = "message", ""
        while True:
            line = await asyncio.wait_for(anext(self._lines), WAIT_S)
            if line == "":
                if data:
                    return name, json.loads(data)
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "":
                self.comments.append(value)
                if comments:
                    return "", value
            elif field == "event":
                name = value
            elif field == "data":
                data += value
            elif field == "retry":
                self.retry = value

    async def event(self) -> tuple[str, Any]:
        return await self._next(comments=False)

    async def comment(self) -> str:
        _, text = await self._next(comments=True)
        return str(text)

    async def until(self, name: str, predicate: Any = lambda data: True) -> Any:
        """The next `name` event that satisfies `predicate`, within WAIT_S in all (heartbeats
        keep arriving, so waiting per line would never end)."""
        async with asyncio.timeout(WAIT_S):
            while True:
                got, data = await self.event()
                if got == name and predicate(data):
                    return data


@asynccontextmanager
async def stream(http: httpx.AsyncClient, path: str) -> AsyncIterator[EventReader]:
    async with http.stream("GET", path) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        yield EventReader(response)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=WAIT_S) as client:
        yield client


class TestStream:
    async def test_a_confirmed_gift_reaches_an_open_page_as_progress_and_supporter(
        self, settings: Settings, database: Database, http: httpx.AsyncClient
    ) -> None:
        with served(settings, database) as site:
            api = httpx.AsyncClient(base_url=site.url, timeout=WAIT_S)
            campaign, slug = await live_campaign(api, database)
            async with stream(http, f"{site.url}/c/{slug}/live") as events:
                first = await events.until("progress")
                payment = await insert_donation(
                    database,
                    campaign,
                    amount_minor=2500,
                    donor_name="Ada Lovelace",
                    donor_email="ada@example.org",
                )
                await site.confirm(api, payment)

                supporter = await events.until("supporter")
                progress = await events.until("progress", lambda p: p["raised_minor"] > 0)
            await api.aclose()

        assert first["raised_minor"] == 0 and first["donors_count"] == 0
        # Every open page picks the texts of its own language (live.js).
        texts = supporter.pop("texts")
        assert texts["en"] == {"name": "Ada Lovelace", "amount_text": "gave €25.00", "when_text": "just now"}
        assert texts["nl"] == {
            "name": "Ada Lovelace",
            "amount_text": "gaf €\xa025,00",
            "when_text": "zojuist",
        }
        assert progress["texts"]["nl"]["raised_text"] == "€\xa025,00"
        assert progress["texts"]["nl"]["donors_text"] == "1 donateur"
        assert progress["texts"]["en"]["announce_text"] == "€25.00 raised of €100.00"
        assert supporter == {
            "id": str(payment.donation_id),
            "name": "Ada Lovelace",
            "amount_text": "€25.00",
            "message": None,
            "when_text": "just now",
        }
        assert progress["raised_minor"] == 2500
        assert progress["donors_count"] == 1
        assert progress["raised_text"] == "€25.00"
        assert progress["total_minor"] == 2500
        assert progress["percent"] == 25
        assert progress["percent_text"] == "25%"
        assert progress["donors_text"] == "1 donor"

    async def test_an_anonymous_gift_with_a_hidden_amount_says_only_anonymous(
        self, settings: Settings, database: Database, http: httpx.AsyncClient
    ) -> None:
        with served(settings, database) as site:
            api = httpx.AsyncClient(base_url=site.url, timeout=WAIT_S)
            campaign, slug = await live_campaign(api, database)
            async with stream(http, f"{site.url}/c/{slug}/live") as events:
                await events.until("progress")
                payment = await insert_donation(database, campaign, donor_name="Secret Sam", anonymous=True)
                async with database.transaction() as session:
                    await session.execute(
                        sa.update(Donation)
                        .where(Donation.id == uuid.UUID(payment.donation_id))
                        .values(hide_amount=True, message="Keep going!")
                    )
                await site.confirm(api, payment)
                supporter = await events.until("supporter")
            await api.aclose()

        assert supporter["name"] == "Anonymous"
        assert supporter["texts"]["nl"]["name"] == "Anoniem"
        assert supporter["texts"]["nl"]["amount_text"] is None
        assert supporter["amount_text"] is None
        assert supporter["message"] == "Keep going!"

    async def test_a_rolled_back_confirmation_publishes_nothing(
        self, settings: Settings, database: Database, http: httpx.AsyncClient
    ) -> None:
        with served(settings, database) as site:
            api = httpx.AsyncClient(base_url=site.url, timeout=WAIT_S)
            campaign, slug = await live_campaign(api, database)
            async with stream(http, f"{site.url}/c/{slug}/live") as events:
                await events.until("progress")
                undone = await insert_donation(
                    database, campaign, amount_minor=9000, donor_name="Rolled Back"
                )
                kept = await insert_donation(database, campaign, amount_minor=1000, donor_name="Committed")
                with pytest.raises(RuntimeError, match="crash"):
                    await confirm_then_crash(database, uuid.UUID(undone.donation_id))
                await site.confirm(api, kept)

                # Events arrive in commit order: the first news is the committed gift's.
                supporter = await events.until("supporter")
                progress = await events.until("progress", lambda p: p["raised_minor"] > 0)
            await api.aclose()

        assert supporter["name"] == "Committed"
        assert progress["raised_minor"] == 1000

    async def test_stream_headers_retry_hint_and_heartbeats(
        self, settings: Settings, database: Database, http: httpx.AsyncClient
    ) -> None:
        with served(settings, database, live_heartbeat_s=0.2) as site:
            api = httpx.AsyncClient(base_url=site.url, timeout=WAIT_S)
            _, slug = await live_campaign(api, database)
            async with stream(http, f"{site.url}/c/{slug}/live") as events:
                headers = events.response.headers
                await events.until("progress")
                heartbeat = await events.comment()
            await api.aclose()

        assert headers["content-type"].startswith("text/event-stream")
        assert headers["cache-control"] == "no-store"
        assert headers["x-accel-buffering"] == "no"
        assert events.retry == "5000"
        assert heartbeat == "heartbeat"

    async def test_unknown_campaign_is_404_and_frees_its_place(
        self, settings: Settings, database: Database, http: httpx.AsyncClient
    ) -> None:
        with served(settings, database) as site:
            response = await http.get(f"{site.url}/c/no-such-campaign/live")
            count = site.broker.subscriber_count

        assert response.status_code == 404
        assert count == 0

    async def test_beyond_the_cap_a_stream_is_refused_with_503_and_retry_after(
        self, settings: Settings, database: Database, http: httpx.AsyncClient
    ) -> None:
        with served(settings, database, live_max_subscribers=1) as site:
            api = httpx.AsyncClient(base_url=site.url, timeout=WAIT_S)
            _, slug = await live_campaign(api, database)
            async with stream(http, f"{site.url}/c/{slug}/live") as events:
                await events.until("progress")
                refused = await http.get(f"{site.url}/c/{slug}/live")
            await api.aclose()

        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "30"
        assert refused.json()["error"] == "live_unavailable"

    async def test_a_closed_page_frees_its_subscription(
        self, settings: Settings, database: Database, http: httpx.AsyncClient
    ) -> None:
        with served(settings, database) as site:
            api = httpx.AsyncClient(base_url=site.url, timeout=WAIT_S)
            _, slug = await live_campaign(api, database)
            async with stream(http, f"{site.url}/c/{slug}/live") as events:
                await events.until("progress")
                open_count = site.broker.subscriber_count
            # The client went away: the server notices the disconnect and lets go.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_S
            while site.broker.subscriber_count and loop.time() < deadline:
                await asyncio.sleep(0.05)
            closed_count = site.broker.subscriber_count
            await api.aclose()

        assert open_count == 1
        assert closed_count == 0


@pytest.fixture
def pg_settings(postgres_migrated: str, tmp_path: Path) -> Settings:
    """PostgreSQL only: LISTEN/NOTIFY is what is under test."""
    databases.truncate_postgres(postgres_migrated)
    return Settings(
        database_url=postgres_migrated,
        secret_key=TEST_SECRET_KEY,
        public_base_url="http://testserver",
        data_dir=tmp_path / "data",
        log_json=False,
    )


@pytest.fixture
async def pg_database(pg_settings: Settings) -> AsyncIterator[Database]:
    database = Database.from_url(pg_settings.database_url)
    yield database
    await database.dispose()


class TestReconnect:
    async def test_after_the_listen_connection_drops_pages_get_fresh_progress_and_later_gifts(
        self, pg_settings: Settings, pg_database: Database, http: httpx.AsyncClient
    ) -> None:
        settings, database = pg_settings, pg_database
        with served(settings, database) as site:
            api = httpx.AsyncClient(base_url=site.url, timeout=WAIT_S)
            campaign, slug = await live_campaign(api, database)
            async with stream(http, f"{site.url}/c/{slug}/live") as events:
                await events.until("progress")
                async with database.transaction() as session:
                    # Totals that moved while the process could not hear (no notification).
                    await session.execute(
                        sa.update(Campaign).where(Campaign.id == campaign.id).values(raised_minor=777)
                    )
                    ended = await session.scalar(
                        sa.text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            " WHERE application_name = :name AND datname = current_database()"
                        ),
                        {"name": APPLICATION_NAME},
                    )
                resynced = await events.until("progress")
                payment = await insert_donation(database, campaign, amount_minor=1000, donor_name="After")
                await site.confirm(api, payment)
                supporter = await events.until("supporter")
            reconnects = site.broker.reconnects
            await api.aclose()

        assert ended == 1
        assert resynced["raised_minor"] == 777
        assert supporter["name"] == "After"
        assert reconnects >= 1


class TestFanOut:
    """The broker itself: fan-out never waits on a subscriber."""

    def message(self, n: int) -> Message:
        return Message(
            topic="campaign:x",
            latest={"progress": {"raised_minor": n}},
            queued=(("supporter", {"n": n}),),
        )

    async def test_a_slow_subscriber_does_not_block_others_and_keeps_only_the_newest(self) -> None:
        broker = LiveBroker(sa.make_url("sqlite+aiosqlite:///fan-out.db"), max_subscribers=10)
        slow = broker.subscribe("campaign:x")
        fast = broker.subscribe("campaign:x")
        received: list[Any] = []

        async def read(subscription: Subscription) -> None:
            while len(received) < 100:
                events = await subscription.next_events(wait_s=WAIT_S)
                assert events is not None
                received.extend(data["n"] for name, data in events if name == "supporter")

        reader = asyncio.create_task(read(fast))
        for n in range(100):
            broker.fan_out(self.message(n))  # returns at once, whoever is reading
            await asyncio.sleep(0)  # let the fast reader run between messages
        await asyncio.wait_for(reader, WAIT_S)
        backlog = await slow.next_events(wait_s=0)
        await broker.aclose()

        assert received == list(range(100))
        assert backlog is not None
        supporters = [data["n"] for name, data in backlog if name == "supporter"]
        progress = [data for name, data in backlog if name == "progress"]
        assert supporters == list(range(100 - QUEUE_LIMIT, 100))
        assert progress == [{"raised_minor": 99}]
        assert slow.dropped == 100 - QUEUE_LIMIT

    async def test_other_topics_hear_nothing(self) -> None:
        broker = LiveBroker(sa.make_url("sqlite+aiosqlite:///topics.db"), max_subscribers=10)
        other = broker.subscribe("campaign:y")
        broker.fan_out(self.message(1))
        events = await other.next_events(wait_s=0)
        await broker.aclose()

        assert events == []

    def test_a_big_batch_fits_one_notification(self) -> None:
        queued = tuple(("supporter", {"message": "é" * 500, "name": "n" * 200}) for _ in range(30))
        message = Message(topic="campaign:x", latest={"progress": {"raised_minor": 1}}, queued=queued)

        payload = message.encode()
        decoded = Message.decode(payload)

        assert len(payload.encode()) <= MAX_PAYLOAD_BYTES
        assert decoded is not None and decoded.latest == message.latest
        assert 0 < len(decoded.queued) < 30
        assert decoded.queued == message.queued[-len(decoded.queued) :]


class TestSettings:
    ENV = {"GOODLOOP_SECRET_KEY": "k" * 48}

    def test_the_cap_comes_from_the_environment(self) -> None:
        assert (
            load_settings({**self.ENV, "GOODLOOP_LIVE_MAX_SUBSCRIBERS": "2500"}).live_max_subscribers == 2500
        )
        assert load_settings(self.ENV).live_max_subscribers == 10_000

    @pytest.mark.parametrize("raw", ["0", "-5", "lots", "2000000"])
    def test_a_cap_that_is_not_a_sensible_count_stops_start_up(self, raw: str) -> None:
        with pytest.raises(SettingsError, match="GOODLOOP_LIVE_MAX_SUBSCRIBERS"):
            load_settings({**self.ENV, "GOODLOOP_LIVE_MAX_SUBSCRIBERS": raw})
