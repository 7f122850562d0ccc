"""Donation facts: each announced once, at the settlement step that makes it true, as one stored
integration event, however Stripe delivers (twice, reordered, across a batch that failed)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from campaigns import facts
from campaigns.donations.schemas import DonationOut
from campaigns.integrations import events
from campaigns.integrations.models import IntegrationEvent
from service.db import Database
from service.settings import Settings
from tests.webhooks.builders import (
    LiveCampaign,
    create_live_campaign,
    deliver,
    get_donation,
    insert_donation,
    process_all,
)
from tests.webhooks.stripe_events import Payment, event, new_id
from webhooks.processor import process_due_events

JSON = dict[str, Any]


def refunded_twice(p: Payment) -> list[JSON]:
    first = p.refund(refund_id=new_id("re"), amount_minor=1000)
    second = p.refund(refund_id=new_id("re"), amount_minor=1500)
    return [
        event("checkout.session.completed", p.checkout_session()),
        event("charge.succeeded", p.charge()),
        event("refund.created", first),
        event("charge.refunded", p.charge(amount_refunded=1000)),
        event("refund.created", second),
        event("charge.refunded", p.charge(amount_refunded=2500)),
    ]


def dispute(p: Payment, outcome: str) -> list[JSON]:
    dispute_id = new_id("dp")
    closing = [event("charge.dispute.closed", p.dispute(dispute_id=dispute_id, status=outcome))]
    if outcome == "won":
        closing.insert(
            0, event("charge.dispute.funds_reinstated", p.dispute(dispute_id=dispute_id, status="won"))
        )
    return [
        event("checkout.session.completed", p.checkout_session()),
        event("charge.succeeded", p.charge()),
        event("charge.dispute.created", p.dispute(dispute_id=dispute_id)),
        event("charge.dispute.funds_withdrawn", p.dispute(dispute_id=dispute_id)),
        event("charge.dispute.updated", p.dispute(dispute_id=dispute_id, status="under_review")),
        *closing,
    ]


async def history(database: Database, campaign: LiveCampaign) -> tuple[dict[str, Payment], list[JSON]]:
    payments = {
        "refunded": await insert_donation(database, campaign, amount_minor=5000, donor_email="a@example.org"),
        "lost": await insert_donation(database, campaign, amount_minor=3000, donor_email="b@example.org"),
        "won": await insert_donation(database, campaign, amount_minor=2000, donor_email="c@example.org"),
    }
    evts = [
        *refunded_twice(payments["refunded"]),
        *dispute(payments["lost"], "lost"),
        *dispute(payments["won"], "won"),
    ]
    return payments, evts


async def stored(database: Database, *, prefix: str = "donation.") -> list[IntegrationEvent]:
    """The stored events of one family (setting up a live campaign announces campaign facts)."""
    async with database.transaction() as session:
        rows = await session.scalars(
            sa.select(IntegrationEvent)
            .where(IntegrationEvent.type.startswith(prefix))
            .order_by(IntegrationEvent.key)
        )
        return list(rows)


def expected_keys(payments: dict[str, Payment]) -> dict[str, str]:
    r, lost, won = (payments[k].donation_id for k in ("refunded", "lost", "won"))
    return {
        f"donation:{r}:confirmed": facts.DONATION_CONFIRMED,
        f"donation:{r}:refund:1000": facts.DONATION_REFUNDED,
        f"donation:{r}:refund:2500": facts.DONATION_REFUNDED,
        f"donation:{lost}:confirmed": facts.DONATION_CONFIRMED,
        f"donation:{lost}:disputed": facts.DONATION_DISPUTED,
        f"donation:{lost}:dispute_closed": facts.DONATION_DISPUTE_CLOSED,
        f"donation:{won}:confirmed": facts.DONATION_CONFIRMED,
        f"donation:{won}:disputed": facts.DONATION_DISPUTED,
        f"donation:{won}:dispute_closed": facts.DONATION_DISPUTE_CLOSED,
    }


def facts_per_donation(rows: list[IntegrationEvent]) -> Counter[tuple[str, str]]:
    """How many events of each type each donation has (a refund's key depends on the order the
    refunds arrived in: the refunded total after each)."""
    return Counter((str(row.subject_id), row.type) for row in rows)


def facts_per_donation_expected(payments: dict[str, Payment]) -> Counter[tuple[str, str]]:
    return Counter((key.split(":")[1], fact_type) for key, fact_type in expected_keys(payments).items())


class TestDonationFacts:
    async def test_each_fact_is_one_event_in_the_public_shape(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payments, evts = await history(database, campaign)
        for evt in evts:
            assert (await deliver(client, evt, settings.webhook_secret)).status_code == 200
        await process_all(database)

        rows = await stored(database)
        assert {row.key: row.type for row in rows} == expected_keys(payments)
        for row in rows:
            envelope = row.envelope
            assert set(envelope) == {"id", "type", "created", "api_version", "data"}
            assert envelope["id"] == row.id == events.event_id(row.key)
            assert envelope["type"] == row.type
            assert envelope["api_version"] == events.API_VERSION
            assert envelope["created"] == int(row.created_at.timestamp())
            donation = DonationOut.model_validate(envelope["data"]["object"])
            assert donation.id == row.subject_id
            assert donation.nonprofit_id == row.nonprofit_id == campaign.nonprofit_id
        by_key = {row.key: row.envelope["data"]["object"] for row in rows}
        r = payments["refunded"].donation_id
        assert by_key[f"donation:{r}:refund:1000"]["refunded_minor"] == 1000
        assert by_key[f"donation:{r}:refund:2500"]["status"] == "partially_refunded"
        lost, won = payments["lost"].donation_id, payments["won"].donation_id
        assert by_key[f"donation:{lost}:dispute_closed"]["dispute_status"] == "lost"
        assert by_key[f"donation:{won}:dispute_closed"]["dispute_status"] == "won"

    async def test_duplicated_and_reordered_deliveries_announce_each_fact_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payments, evts = await history(database, campaign)
        deliveries = evts + evts
        random.Random(7).shuffle(deliveries)
        for i, evt in enumerate(deliveries):
            assert (await deliver(client, evt, settings.webhook_secret)).status_code == 200
            if i % 5 == 4:
                await process_due_events(database)
        await process_all(database)
        # A late redelivery of everything after processing moves nothing and announces nothing.
        for evt in reversed(evts):
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database)

        assert facts_per_donation(await stored(database)) == facts_per_donation_expected(payments)

    async def test_a_late_open_dispute_event_never_reopens_a_closed_dispute(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payments, evts = await history(database, campaign)
        for evt in evts:
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database)
        lost = payments["lost"]
        late = event("charge.dispute.updated", lost.dispute(dispute_id=new_id("dp"), status="under_review"))
        await deliver(client, late, settings.webhook_secret)
        await process_all(database)

        assert {row.key for row in await stored(database)} == set(expected_keys(payments))
        assert (await get_donation(database, lost.donation_id)).dispute_status == "lost"


Lift = Callable[[], Awaitable[None]]


@pytest.fixture
async def refused_dispute_closes(database: Database, db_url: str) -> AsyncIterator[Lift]:
    """A real constraint that makes the database refuse storing a dispute_closed event, so the
    processor's batch holding one fails part-way (after other events stored theirs) and goes
    one event at a time; lift() drops it, and the refused events are processed later."""
    postgres = db_url.startswith("postgresql")
    add, drop = (
        (
            "ALTER TABLE integration_events ADD CONSTRAINT ck_test_refused "
            "CHECK (type <> 'donation.dispute_closed') NOT VALID",
            "ALTER TABLE integration_events DROP CONSTRAINT IF EXISTS ck_test_refused",
        )
        if postgres
        else (
            "CREATE TRIGGER test_refused BEFORE INSERT ON integration_events "
            "WHEN NEW.type = 'donation.dispute_closed' BEGIN SELECT RAISE(ABORT, 'refused'); END",
            "DROP TRIGGER IF EXISTS test_refused",
        )
    )
    async with database.engine.begin() as conn:
        await conn.execute(sa.text(add))

    async def lift() -> None:
        async with database.engine.begin() as conn:
            await conn.execute(sa.text(drop))

    yield lift
    await lift()


class TestFailedBatch:
    async def test_events_of_a_failed_batch_are_stored_once_when_it_is_run_again(
        self,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        campaign: LiveCampaign,
        refused_dispute_closes: Lift,
    ) -> None:
        payments, evts = await history(database, campaign)
        for evt in evts:
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database, rounds=2)
        before = {row.key for row in await stored(database)}
        assert not any(key.endswith(":dispute_closed") for key in before)
        assert f"donation:{payments['refunded'].donation_id}:refund:2500" in before

        await refused_dispute_closes()
        await process_all(database)

        assert facts_per_donation(await stored(database)) == facts_per_donation_expected(payments)


class TestEventStore:
    async def test_a_rolled_back_fact_leaves_no_event(
        self, database: Database, campaign: LiveCampaign
    ) -> None:
        fact = facts.Fact(
            type="test.fact",
            key=f"test:{uuid.uuid4()}",
            nonprofit_id=campaign.nonprofit_id,
            subject_id=campaign.id,
            occurred_at=database.clock.now(),
            data={"id": str(campaign.id)},
        )
        seen: list[bool] = []

        async def fail_after_the_fact() -> None:
            async with database.transaction() as session:
                await facts.announce(session, fact)
                seen.append(await events.event_for(session, fact.key) is not None)
                raise RuntimeError("the unit fails after the fact")

        with pytest.raises(RuntimeError):
            await fail_after_the_fact()
        assert seen == [True]
        assert await stored(database, prefix="test.") == []

    async def test_a_second_announcement_of_one_key_writes_nothing(
        self, database: Database, campaign: LiveCampaign
    ) -> None:
        fact = facts.Fact(
            type="test.fact",
            key="campaign:x:status:1",
            nonprofit_id=campaign.nonprofit_id,
            subject_id=campaign.id,
            occurred_at=database.clock.now(),
            data={"status": "live"},
        )
        for data in ({"status": "live"}, {"status": "changed"}):
            async with database.transaction() as session:
                await facts.announce(session, facts.Fact(**{**fact.__dict__, "data": data}))
        rows = await stored(database, prefix="test.")
        assert [row.envelope["data"]["object"] for row in rows] == [{"status": "live"}]

    async def test_events_belong_to_their_own_nonprofit(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        other = await create_live_campaign(client, database)
        mine = await insert_donation(database, campaign, amount_minor=1200)
        theirs = await insert_donation(database, other, amount_minor=3400)
        for p in (mine, theirs):
            await deliver(
                client, event("checkout.session.completed", p.checkout_session()), settings.webhook_secret
            )
        await process_all(database)

        rows = await stored(database)
        assert {(row.nonprofit_id, row.envelope["data"]["object"]["id"]) for row in rows} == {
            (campaign.nonprofit_id, mine.donation_id),
            (other.nonprofit_id, theirs.donation_id),
        }
        for row in rows:
            assert row.envelope["data"]["object"]["nonprofit_id"] == str(row.nonprofit_id)
