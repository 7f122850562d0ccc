"""Webhook intake: only genuine, handled, live-mode-matching events are stored, and only once."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests.webhooks import stripe_events
from tests.webhooks.builders import deliver
from webhooks.events import HANDLED_TYPES
from webhooks.handlers.registry import HANDLERS
from webhooks.models import WebhookEvent


async def stored(database: Database) -> list[WebhookEvent]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(WebhookEvent))).all())


def a_session_event() -> dict[str, object]:
    return stripe_events.event("checkout.session.completed", stripe_events.example("checkout.session"))


class TestSignature:
    async def test_signed_event_is_stored(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        evt = a_session_event()

        response = await deliver(client, evt, settings.webhook_secret)

        assert response.status_code == 200
        rows = await stored(database)
        assert [(r.stripe_event_id, r.type, r.processed_at) for r in rows] == [
            (evt["id"], "checkout.session.completed", None)
        ]

    async def test_forged_signature_is_refused(self, client: httpx.AsyncClient, database: Database) -> None:
        payload = stripe_events.encode(a_session_event())

        response = await client.post(
            "/webhooks/stripe", content=payload, headers=stripe_events.signed_headers(payload, "whsec_forged")
        )

        assert response.status_code == 400
        assert response.json()["error"] == "bad_signature"
        assert await stored(database) == []

    async def test_missing_signature_is_refused(self, client: httpx.AsyncClient, database: Database) -> None:
        response = await client.post("/webhooks/stripe", content=stripe_events.encode(a_session_event()))

        assert response.status_code == 400
        assert response.json()["error"] == "missing_signature"
        assert await stored(database) == []

    async def test_stale_signature_is_refused(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        payload = stripe_events.encode(a_session_event())
        headers = stripe_events.signed_headers(
            payload, settings.webhook_secret, timestamp=int(time.time()) - 301
        )

        response = await client.post("/webhooks/stripe", content=payload, headers=headers)

        assert response.status_code == 400
        assert await stored(database) == []

    async def test_tampered_body_is_refused(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        payload = stripe_events.encode(a_session_event())
        headers = stripe_events.signed_headers(payload, settings.webhook_secret)

        response = await client.post(
            "/webhooks/stripe", content=payload.replace(b"paid", b"PAID"), headers=headers
        )

        assert response.status_code == 400
        assert await stored(database) == []

    async def test_each_endpoint_takes_only_its_own_secret(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        evt = stripe_events.event("account.updated", stripe_events.example("account"), account="acct_1")

        wrong = await deliver(client, evt, settings.webhook_secret, path="/webhooks/stripe/connect")
        right = await deliver(client, evt, settings.connect_webhook_secret, path="/webhooks/stripe/connect")

        assert (wrong.status_code, right.status_code) == (400, 200)
        assert [r.account for r in await stored(database)] == ["acct_1"]

    async def test_signed_payload_that_is_not_an_event_is_refused(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        payload = b'{"id": "evt_1", "type": "charge.succeeded"}'

        response = await client.post(
            "/webhooks/stripe",
            content=payload,
            headers=stripe_events.signed_headers(payload, settings.webhook_secret),
        )

        assert response.status_code == 400
        assert response.json()["error"] == "invalid_payload"
        assert await stored(database) == []


class TestFiltering:
    def test_every_stored_type_has_a_handler_and_every_handler_is_reachable(self) -> None:
        assert set(HANDLERS) == set(HANDLED_TYPES)

    async def test_live_event_is_refused_by_a_test_mode_deployment(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        evt = stripe_events.event(
            "checkout.session.completed", stripe_events.example("checkout.session"), livemode=True
        )

        response = await deliver(client, evt, settings.webhook_secret)

        assert response.status_code == 400
        assert response.json()["error"] == "wrong_livemode"
        assert await stored(database) == []

    async def test_unhandled_type_is_acknowledged_but_not_stored(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        evt = stripe_events.event("plan.created", stripe_events.example("event")["data"]["object"])

        response = await deliver(client, evt, settings.webhook_secret)

        assert response.status_code == 200
        assert response.json() == {"received": True, "stored": False}
        assert await stored(database) == []

    async def test_duplicate_delivery_is_stored_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        evt = a_session_event()

        answers = [(await deliver(client, evt, settings.webhook_secret)).status_code for _ in range(3)]

        assert answers == [200, 200, 200]
        assert len(await stored(database)) == 1


class TestOutage:
    async def test_database_down_answers_503_so_stripe_retries(
        self, settings: Settings, db_url: str, tmp_path: Path
    ) -> None:
        if db_url.startswith("sqlite"):
            down_url = f"sqlite+aiosqlite:///{tmp_path}/no-such-dir/goodloop.db"
        else:
            down_url = "postgresql+asyncpg://goodloop:goodloop@127.0.0.1:1/goodloop"
        down = Database.from_url(down_url)
        app = create_app(settings, database=down)
        payload = stripe_events.encode(a_session_event())
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                    response = await client.post(
                        "/webhooks/stripe",
                        content=payload,
                        headers=stripe_events.signed_headers(payload, settings.webhook_secret),
                    )
        finally:
            await down.dispose()

        assert response.status_code == 503
        assert response.json()["error"] == "inbox_unavailable"
        assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize("path", ["/webhooks/stripe", "/webhooks/stripe/connect"])
async def test_get_is_not_allowed(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 405
