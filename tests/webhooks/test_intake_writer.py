"""Group commit of the webhook intake: deliveries that arrive together are stored together, each
answered only after its batch committed; a refused row fails only its own request; duplicates
store once; a full queue answers 503 with Retry-After; a killed server lost nothing it
acknowledged."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from starlette.applications import Starlette

from service.db import Database
from service.settings import Settings
from tests.live_server import free_port
from tests.webhooks import stripe_events
from tests.webhooks.builders import deliver
from webhooks.errors import IntakeBusy
from webhooks.intake_writer import InboxWriter
from webhooks.models import WebhookEvent

GOODLOOP = str(Path(sys.executable).parent / "goodloop")


def an_event(event_id: str | None = None) -> dict[str, object]:
    return stripe_events.event(
        "checkout.session.completed", stripe_events.example("checkout.session"), event_id=event_id
    )


async def stored_ids(database: Database) -> list[str]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(WebhookEvent.stripe_event_id))).all())


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def deliver_all(
    client: httpx.AsyncClient, events: list[dict[str, object]], secret: str
) -> list[httpx.Response]:
    # All at once on one event loop: every request reaches the writer before the first
    # batch's statement returns, so they meet in batches.
    return list(await asyncio.gather(*(deliver(client, evt, secret) for evt in events)))


class TestGroupCommit:
    async def test_deliveries_arriving_together_share_commits_and_all_are_stored(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        events = [an_event() for _ in range(40)]
        batches_before = sample("goodloop_webhook_intake_batches_total")
        rows_before = sample("goodloop_webhook_intake_batch_rows_total")

        answers = await deliver_all(client, events, settings.webhook_secret)

        assert [a.status_code for a in answers] == [200] * 40
        assert sorted(await stored_ids(database)) == sorted(str(e["id"]) for e in events)
        batches = sample("goodloop_webhook_intake_batches_total") - batches_before
        assert sample("goodloop_webhook_intake_batch_rows_total") - rows_before == 40
        assert 1 <= batches < 40, "deliveries that arrive together must share a statement and a commit"

    async def test_duplicates_within_a_batch_and_across_batches_store_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        evt = an_event()
        others = [an_event() for _ in range(5)]
        stored_before = sample("goodloop_webhooks_received_total", endpoint="platform", outcome="stored")

        first = await deliver_all(client, [evt, *others, evt, evt, evt], settings.webhook_secret)
        again = await deliver_all(client, [evt, evt], settings.webhook_secret)

        assert {a.status_code for a in [*first, *again]} == {200}
        ids = await stored_ids(database)
        assert sorted(ids) == sorted({str(evt["id"]), *(str(o["id"]) for o in others)})
        stored_now = sample("goodloop_webhooks_received_total", endpoint="platform", outcome="stored")
        assert stored_now - stored_before == 6, "only each event's first delivery counts as stored"


@pytest.fixture
async def poisoned_ids(database: Database, db_url: str) -> AsyncIterator[str]:
    """A real constraint in the database that refuses event ids starting with evt_poison."""
    async with database.engine.begin() as conn:
        if db_url.startswith("postgresql"):
            await conn.execute(
                sa.text(
                    "ALTER TABLE webhook_events ADD CONSTRAINT ck_test_poison "
                    "CHECK (stripe_event_id NOT LIKE 'evt_poison%') NOT VALID"
                )
            )
        else:
            await conn.execute(
                sa.text(
                    "CREATE TRIGGER test_poison BEFORE INSERT ON webhook_events "
                    "WHEN NEW.stripe_event_id LIKE 'evt_poison%' "
                    "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
                )
            )
    try:
        yield "evt_poison"
    finally:
        async with database.engine.begin() as conn:
            if db_url.startswith("postgresql"):
                await conn.execute(sa.text("ALTER TABLE webhook_events DROP CONSTRAINT ck_test_poison"))
            else:
                await conn.execute(sa.text("DROP TRIGGER test_poison"))


class TestFailures:
    async def test_a_refused_row_fails_only_its_own_request(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, poisoned_ids: str
    ) -> None:
        good = [an_event() for _ in range(30)]
        poison = an_event(f"{poisoned_ids}_1")
        # The poisoned delivery last, so it lands in a batch with others, not alone.
        events = [*good, poison]

        answers = await deliver_all(client, events, settings.webhook_secret)

        assert [a.status_code for a in answers[:-1]] == [200] * len(good)
        assert answers[-1].status_code == 503
        assert answers[-1].json()["error"] == "inbox_unavailable"
        assert "Retry-After" in answers[-1].headers
        assert sorted(await stored_ids(database)) == sorted(str(e["id"]) for e in good)

    async def test_a_full_queue_answers_503_with_retry_after_and_the_redelivery_is_stored(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        app.state.inbox_writer = InboxWriter(max_waiting=2, flushers=1)
        events = [an_event() for _ in range(12)]

        answers = await deliver_all(client, events, settings.webhook_secret)

        busy = [evt for evt, a in zip(events, answers, strict=True) if a.status_code == 503]
        assert busy, "deliveries beyond the queue's bound must be refused"
        for answer in answers:
            if answer.status_code == 503:
                assert answer.json()["error"] == "intake_busy"
                assert answer.headers["Retry-After"] == str(IntakeBusy.retry_after_s)
            else:
                assert answer.status_code == 200
        assert len(await stored_ids(database)) == len(events) - len(busy)
        # Stripe retries later, not all at the same instant.
        retried = [(await deliver(client, evt, settings.webhook_secret)).status_code for evt in busy]
        assert set(retried) == {200}
        assert sorted(await stored_ids(database)) == sorted(str(e["id"]) for e in events)

    async def test_a_timestamp_no_database_can_hold_is_a_400_not_a_500(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        evt = an_event()
        evt["created"] = 2**40  # within the envelope's bound, but past year 9999

        answer = await deliver(client, evt, settings.webhook_secret)

        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_payload"
        assert await stored_ids(database) == []


class TestFastPath:
    """Deliveries are answered before the router (service/web/fast_path.py) when they say their
    size; without a Content-Length they go the normal way, and both answer alike."""

    @staticmethod
    async def chunked(payload: bytes) -> AsyncIterator[bytes]:
        yield payload

    async def test_a_delivery_with_and_without_a_length_is_answered_alike(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        fast_before = sample("goodloop_page_fast_path_total", route="/webhooks/stripe")
        answers = []
        for evt in (an_event(), an_event()):
            payload = stripe_events.encode(evt)
            headers = stripe_events.signed_headers(payload, settings.webhook_secret)
            answers.append(await client.post("/webhooks/stripe", content=payload, headers=headers))
        forged = stripe_events.encode(an_event())
        bad = stripe_events.signed_headers(forged, "whsec_forged")
        refused = [
            await client.post("/webhooks/stripe", content=forged, headers=bad),
            await client.post("/webhooks/stripe", content=self.chunked(forged), headers=bad),
        ]
        payload = stripe_events.encode(an_event())
        headers = stripe_events.signed_headers(payload, settings.webhook_secret)
        normal = await client.post("/webhooks/stripe", content=self.chunked(payload), headers=headers)

        assert sample("goodloop_page_fast_path_total", route="/webhooks/stripe") - fast_before == 3
        assert [a.status_code for a in [*answers, normal]] == [200, 200, 200]
        assert {a.content for a in [*answers, normal]} == {b'{"received": true, "stored": true}'}
        assert [r.status_code for r in refused] == [400, 400]
        assert refused[0].json() == refused[1].json()
        assert refused[0].headers["content-type"] == refused[1].headers["content-type"]
        assert len(await stored_ids(database)) == 3

    async def test_a_delivery_larger_than_the_body_limit_meets_it_on_the_normal_path(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        evt = an_event()
        evt["padding"] = "x" * (1024 * 1024)
        payload = stripe_events.encode(evt)

        answer = await client.post(
            "/webhooks/stripe",
            content=payload,
            headers=stripe_events.signed_headers(payload, settings.webhook_secret),
        )

        assert answer.status_code == 413
        assert await stored_ids(database) == []


SECRET = "whsec_crash_" + "c" * 24


async def _send(client: httpx.AsyncClient, evt: dict[str, object]) -> str | None:
    """The event id when the server acknowledged it (2xx), else None."""
    try:
        payload = stripe_events.encode(evt)
        answer = await client.post(
            "/webhooks/stripe", content=payload, headers=stripe_events.signed_headers(payload, SECRET)
        )
    except httpx.TransportError:
        return None
    return str(evt["id"]) if answer.is_success else None


class TestCrash:
    async def test_a_server_killed_mid_run_lost_nothing_it_acknowledged(
        self, db_url: str, database: Database, tmp_path: Path
    ) -> None:
        port = free_port()
        clean = {
            k: v for k, v in os.environ.items() if not k.startswith(("GOODLOOP_", "STRIPE_", "DATABASE"))
        }
        env = {
            **clean,
            "DATABASE_URL": db_url,
            "GOODLOOP_SECRET_KEY": "crash-test-" + "k" * 40,
            "GOODLOOP_DATA_DIR": str(tmp_path / "data"),
            "GOODLOOP_LOG_FORMAT": "json",
            "STRIPE_WEBHOOK_SECRET": SECRET,
        }
        server = subprocess.Popen(
            [GOODLOOP, "serve", "--no-worker", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        events = [an_event() for _ in range(600)]
        acknowledged: list[str] = []
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                for _ in range(300):
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                limit = asyncio.Semaphore(32)

                async def send(evt: dict[str, object]) -> None:
                    async with limit:
                        if (event_id := await _send(client, evt)) is not None:
                            acknowledged.append(event_id)
                            if len(acknowledged) == 150:
                                # Mid-run, with batches in flight: some inserted and not yet
                                # answered, some waiting, some not yet sent.
                                server.send_signal(signal.SIGKILL)

                await asyncio.gather(*(send(evt) for evt in events))
        finally:
            server.kill()
            server.wait(timeout=30)

        stored = set(await stored_ids(database))
        assert 150 <= len(acknowledged) < len(events), "the server must have died mid-run"
        assert set(acknowledged) <= stored, "every acknowledged delivery must be durable"
