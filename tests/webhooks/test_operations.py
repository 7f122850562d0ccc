"""Failures, dead letters, replay (admin API and CLI), ledger check and reconciliation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa

from campaigns.campaign.models import Campaign
from service.app import check_ledger, replay_event
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from tests.builders import insert_admin
from tests.webhooks import stripe_events
from tests.webhooks.builders import LiveCampaign, deliver, get_donation, insert_donation, process_all
from webhooks import inbox
from webhooks.events import StripeEvent
from webhooks.models import WebhookEvent
from webhooks.processor import process_due_events
from webhooks.reconcile import enqueue_missing


async def only_event(database: Database) -> WebhookEvent:
    async with database.transaction() as session:
        row = await session.scalar(sa.select(WebhookEvent))
    assert row is not None
    return row


async def an_orphan_event(client: httpx.AsyncClient, settings: Settings) -> str:
    """A refund for a charge we will never know: it can only end as a dead letter."""
    refund = stripe_events.example("refund")
    evt = stripe_events.event("refund.created", refund)
    await deliver(client, evt, settings.webhook_secret)
    return str(evt["id"])


class TestFailures:
    async def test_unknown_reference_becomes_a_dead_letter_after_the_last_attempt(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        await an_orphan_event(client, settings)

        await process_all(database, rounds=inbox.MAX_ATTEMPTS + 2)

        row = await only_event(database)
        assert (row.dead, row.attempts, row.processed_at) == (True, inbox.MAX_ATTEMPTS, None)

    async def test_a_crashing_handler_is_recorded_and_the_batch_goes_on(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        async def broken(session: Any, event: StripeEvent) -> None:
            raise RuntimeError("handler bug")

        async def fine(session: Any, event: StripeEvent) -> None:
            return None

        for event_type in ["charge.succeeded", "refund.created"]:
            obj = stripe_events.example("charge" if event_type == "charge.succeeded" else "refund")
            await deliver(client, stripe_events.event(event_type, obj), settings.webhook_secret)

        done = await process_due_events(
            database, handlers={"charge.succeeded": broken, "refund.created": fine}
        )

        async with database.transaction() as session:
            rows = {r.type: r for r in await session.scalars(sa.select(WebhookEvent))}
        assert done == 2
        assert rows["charge.succeeded"].processed_at is None
        assert "handler bug" in (rows["charge.succeeded"].last_error or "")
        assert rows["charge.succeeded"].next_attempt_at is not None
        assert rows["refund.created"].processed_at is not None

    def test_backoff_doubles_up_to_a_cap(self) -> None:
        delays = [inbox.backoff(n).total_seconds() for n in (1, 2, 3, 20)]

        assert delays == [2.0, 4.0, 8.0, inbox.BACKOFF_CAP_S]


class TestAdminApi:
    async def test_dead_letters_are_listed_and_can_be_replayed(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        stripe_event_id = await an_orphan_event(client, settings)
        await process_all(database, rounds=inbox.MAX_ATTEMPTS + 2)
        finance = await insert_admin(database, role=AdminRole.FINANCE)

        listed = await client.get("/api/v1/admin/webhook-events?dead=true", headers=finance.headers)
        row_id = listed.json()["data"][0]["id"]
        replayed = await client.post(f"/api/v1/admin/webhook-events/{row_id}/replay", headers=finance.headers)

        assert listed.status_code == 200
        assert [e["stripe_event_id"] for e in listed.json()["data"]] == [stripe_event_id]
        assert replayed.status_code == 200
        assert (replayed.json()["dead"], replayed.json()["attempts"]) == (False, 0)

    async def test_reviewers_cannot_see_the_inbox(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        reviewer = await insert_admin(database, role=AdminRole.REVIEWER)

        response = await client.get("/api/v1/admin/webhook-events", headers=reviewer.headers)

        assert response.status_code == 403

    async def test_replaying_an_unknown_event_is_404(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        finance = await insert_admin(database, role=AdminRole.FINANCE)

        response = await client.post(
            f"/api/v1/admin/webhook-events/{uuid.uuid4()}/replay", headers=finance.headers
        )

        assert response.status_code == 404


class TestReplay:
    async def test_replaying_a_processed_event_changes_nothing(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign)
        evt = stripe_events.event("checkout.session.completed", payment.checkout_session())
        await deliver(client, evt, settings.webhook_secret)
        await process_all(database)

        queued = await replay_event(database, key=str(evt["id"]))
        await process_all(database)

        assert queued is not None
        assert (await only_event(database)).processed_at is not None
        assert await check_ledger(database) == []
        assert (await get_donation(database, payment.donation_id)).amount_minor == 2500


class TestLedgerCheck:
    async def test_passes_after_real_payments_and_refunds(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign, amount_minor=3000, fee_cover_minor=90)
        for evt in [
            stripe_events.event("checkout.session.completed", payment.checkout_session()),
            stripe_events.event("charge.succeeded", payment.charge(fee_minor=80)),
            stripe_events.event("refund.created", payment.refund(refund_id="re_x", amount_minor=500)),
        ]:
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database)

        assert await check_ledger(database) == []

    async def test_reports_a_campaign_total_that_was_edited_by_hand(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign)
        await deliver(
            client,
            stripe_events.event("checkout.session.completed", payment.checkout_session()),
            settings.webhook_secret,
        )
        await process_all(database)
        async with database.transaction() as session:
            await session.execute(
                sa.update(Campaign).where(Campaign.id == campaign.id).values(raised_minor=99)
            )

        problems = await check_ledger(database)

        assert len(problems) == 1
        assert "stored totals (99, 1) != recomputed (2500, 1)" in problems[0]


class TestReconcile:
    async def test_enqueues_only_missing_handled_events(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        delivered = stripe_events.event("charge.succeeded", stripe_events.example("charge"))
        await deliver(client, delivered, settings.webhook_secret)
        missed = stripe_events.event("refund.created", stripe_events.example("refund"))
        unhandled = stripe_events.event("plan.created", {"id": "plan_1", "object": "plan"})

        result = await enqueue_missing(database, events=[delivered, missed, unhandled])

        assert (result.listed, result.enqueued) == (3, [missed["id"]])

    async def test_lists_events_through_the_stripe_sdk(self, database: Database) -> None:
        import stripe

        from webhooks.reconcile import list_events_since

        missed = stripe_events.event("refund.created", stripe_events.example("refund"))
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            page = {"object": "list", "data": [missed], "has_more": False, "url": "/v1/events"}
            return httpx.Response(200, json=page)

        http_client = stripe.HTTPXClient()
        # The boundary fake: Stripe's HTTP API answered by a MockTransport.
        http_client._client_async = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = stripe.StripeClient("sk_test_x", http_client=http_client)

        events = await list_events_since(client, since=datetime(2026, 1, 1, tzinfo=UTC))

        assert [e["id"] for e in events] == [missed["id"]]
        assert seen[0].url.path == "/v1/events"
        assert seen[0].url.params["created[gte]"] == str(int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()))
        assert json.loads(json.dumps(events[0]))["data"]["object"]["id"] == missed["data"]["object"]["id"]
