"""A payment moves a donation only when it is the payment Goodloop created for it.

Every forged or edited event here is signed exactly as Stripe signs (the platform secret,
or the Connect secret for an event from a connected account): the signature is genuine,
the payment is not the donation's. None may confirm, book, match or pay; each leaves one
mismatch row and one count in goodloop_payment_mismatches_total; the genuine event still
confirms afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa

from campaigns.campaign.models import Campaign
from campaigns.donations import bookkeeping
from campaigns.donations.mismatches import MismatchReason
from campaigns.donations.models import Donation, DonationStatus
from campaigns.matching.models import Match
from campaigns.payouts.models import Payout
from service.db import Database
from service.settings import Settings
from tests.campaigns.matching.helpers import World, make_program, make_world
from tests.webhooks.builders import get_donation, insert_donation, process_all
from tests.webhooks.forgery import (
    FORGER,
    Delivery,
    counted,
    edited,
    event_row,
    forged,
    mismatches,
    send,
)
from tests.webhooks.stripe_events import Payment, event, new_id
from webhooks.models import WebhookEvent
from webhooks.processor import process_due_events


async def untouched(world: World, payment: Payment) -> None:
    """The donation is as checkout left it: pending, nothing booked, no match, no payout."""
    donation = await get_donation(world.database, payment.donation_id)
    assert donation.status is DonationStatus.PENDING
    assert (donation.confirmed_at, donation.stripe_payment_intent_id, donation.card_fingerprint) == (
        None,
        None,
        None,
    )
    async with world.database.transaction() as session:
        assert await bookkeeping.donation_sums(session, donation.id) == {}
        for model in (Match, Payout):
            count = sa.select(sa.func.count()).select_from(model).where(model.donation_id == donation.id)
            assert await session.scalar(count) == 0


async def campaign_raised(world: World) -> int:
    async with world.database.transaction() as session:
        found = await session.get(Campaign, world.campaign.id)
    assert found is not None
    return found.raised_minor


async def pay_for_real(world: World, payment: Payment) -> None:
    for evt in (
        event("charge.succeeded", payment.charge(fingerprint=uuid.uuid4().hex[:16])),
        event("checkout.session.completed", payment.checkout_session()),
    ):
        await send(world, Delivery(evt))
    await process_all(world.database)


Case = Callable[[Payment], Delivery]

CASES: dict[str, tuple[Case, MismatchReason]] = {
    # The report: a connected account's own 0.50 checkout, with our donation's id in metadata.
    "connect_account_session_for_0_50": (
        lambda victim: Delivery(
            event(
                "checkout.session.completed",
                forged(victim, amount_minor=50).checkout_session(),
                account=FORGER,
            ),
            connect=True,
        ),
        MismatchReason.WRONG_ACCOUNT,
    ),
    "connect_account_intent_in_usd": (
        lambda victim: Delivery(
            event(
                "payment_intent.succeeded",
                forged(victim, amount_minor=50, currency="usd").payment_intent(),
                account=FORGER,
            ),
            connect=True,
        ),
        MismatchReason.WRONG_ACCOUNT,
    ),
    "connect_account_delayed_success": (
        lambda victim: Delivery(
            event(
                "checkout.session.async_payment_succeeded",
                forged(victim, amount_minor=victim.amount_minor).checkout_session(),
                account=FORGER,
            ),
            connect=True,
        ),
        MismatchReason.WRONG_ACCOUNT,
    ),
    "platform_session_of_the_donation_for_0_50": (
        lambda victim: Delivery(
            event("checkout.session.completed", {**victim.checkout_session(), "amount_total": 50})
        ),
        MismatchReason.WRONG_AMOUNT,
    ),
    "platform_session_of_the_donation_in_usd": (
        lambda victim: Delivery(
            event("checkout.session.completed", {**victim.checkout_session(), "currency": "usd"})
        ),
        MismatchReason.WRONG_CURRENCY,
    ),
    "platform_payment_of_someone_else_naming_the_donation": (
        lambda victim: Delivery(
            event(
                "checkout.session.completed",
                forged(victim, amount_minor=victim.amount_minor).checkout_session(),
            )
        ),
        MismatchReason.UNKNOWN_PAYMENT,
    ),
}


class TestForgedPayments:
    @pytest.mark.parametrize("case", sorted(CASES))
    async def test_forged_payment_changes_nothing_and_is_recorded(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, case: str
    ) -> None:
        world = await make_world(client, database, settings)
        await make_program(world)
        victim = await insert_donation(database, world.campaign, amount_minor=2500)
        build, reason = CASES[case]
        delivery = build(victim)
        before = counted(reason)

        await send(world, delivery)
        await process_all(database)

        await untouched(world, victim)
        assert await campaign_raised(world) == 0
        (row,) = await mismatches(database)
        assert (row.reason, row.stripe_event_id, row.event_type) == (
            reason,
            delivery.evt["id"],
            delivery.evt["type"],
        )
        assert row.claimed_donation_id == uuid.UUID(victim.donation_id)
        assert row.stripe_account_id == (FORGER if delivery.connect else None)
        assert counted(reason) == before + 1
        processed = await event_row(database, delivery.evt["id"])
        assert (processed.processed_at is not None, processed.dead, processed.attempts) == (True, False, 1)

        # The donor's own payment still confirms, and earns its match.
        await pay_for_real(world, victim)

        donation = await get_donation(database, victim.donation_id)
        assert donation.status is DonationStatus.CONFIRMED
        assert await campaign_raised(world) == 2500
        async with database.transaction() as session:
            matched = await session.scalar(
                sa.select(sa.func.count()).select_from(Match).where(Match.donation_id == donation.id)
            )
        assert matched == 1
        assert len(await mismatches(database)) == 1

    async def test_a_donations_real_payment_naming_another_donation_moves_neither(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        await make_program(world)
        victim = await insert_donation(database, world.campaign, amount_minor=2500)
        attacker = await insert_donation(database, world.campaign, amount_minor=2500)
        own_session = attacker.checkout_session()
        own_session["metadata"] = victim.metadata
        evt = event("checkout.session.completed", own_session)
        before = counted(MismatchReason.METADATA_DISAGREES)

        await send(world, Delivery(evt))
        await process_all(database)

        await untouched(world, victim)
        await untouched(world, attacker)
        assert await campaign_raised(world) == 0
        (row,) = await mismatches(database)
        assert (row.reason, row.donation_id, row.claimed_donation_id) == (
            MismatchReason.METADATA_DISAGREES,
            uuid.UUID(attacker.donation_id),
            uuid.UUID(victim.donation_id),
        )
        assert counted(MismatchReason.METADATA_DISAGREES) == before + 1

    async def test_replay_of_a_real_event_with_edited_metadata_changes_nothing(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        await make_program(world)
        victim = await insert_donation(database, world.campaign, amount_minor=2500)
        paid = await insert_donation(database, world.campaign, amount_minor=2500)
        genuine = event("checkout.session.completed", paid.checkout_session())
        await send(world, Delivery(genuine))
        await process_all(database)
        before = counted(MismatchReason.METADATA_DISAGREES)

        replay = edited(genuine, metadata={"donation_id": victim.donation_id})
        await send(world, Delivery(replay))
        await process_all(database)

        await untouched(world, victim)
        assert (await get_donation(database, paid.donation_id)).status is DonationStatus.CONFIRMED
        assert await campaign_raised(world) == 2500
        (row,) = await mismatches(database)
        assert (row.reason, row.stripe_event_id) == (MismatchReason.METADATA_DISAGREES, replay["id"])
        assert counted(MismatchReason.METADATA_DISAGREES) == before + 1


class TestLaterObjects:
    """Intents, charges, refunds and transfers are bound through the ids the session linked."""

    async def test_charge_for_another_amount_on_the_linked_intent_records_nothing(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        payment = await insert_donation(database, world.campaign, amount_minor=2500)
        unpaid = event("checkout.session.completed", payment.checkout_session(payment_status="unpaid"))
        await send(world, Delivery(unpaid))
        charge = {**payment.charge(fingerprint="forgedprint00000", fee_minor=10), "amount": 50}

        await send(world, Delivery(event("charge.succeeded", charge)))
        await process_all(database)

        donation = await get_donation(database, payment.donation_id)
        assert (donation.card_fingerprint, donation.stripe_charge_id, donation.stripe_fee_minor) == (
            None,
            None,
            None,
        )
        assert [m.reason for m in await mismatches(database)] == [MismatchReason.WRONG_AMOUNT]

    async def test_an_intent_for_a_donation_paid_by_another_is_a_mismatch_at_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        payment = await insert_donation(database, world.campaign, amount_minor=2500)
        await pay_for_real(world, payment)
        other = forged(payment, amount_minor=2500)
        evt = event("payment_intent.succeeded", other.payment_intent())

        await send(world, Delivery(evt))
        await process_all(database, rounds=1)

        row = await event_row(database, evt["id"])
        assert (row.processed_at is not None, row.attempts) == (True, 1)
        assert [m.reason for m in await mismatches(database)] == [MismatchReason.UNKNOWN_PAYMENT]
        donation = await get_donation(database, payment.donation_id)
        assert donation.stripe_payment_intent_id == payment.payment_intent_id

    async def test_refund_from_a_connected_account_refunds_nothing(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        payment = await insert_donation(database, world.campaign, amount_minor=2500)
        await pay_for_real(world, payment)
        refund = payment.refund(refund_id=new_id("re"), amount_minor=2500)

        await send(world, Delivery(event("refund.created", refund, account=FORGER), connect=True))
        await process_all(database)

        donation = await get_donation(database, payment.donation_id)
        assert (donation.status, donation.refunded_minor) == (DonationStatus.CONFIRMED, 0)
        assert [m.reason for m in await mismatches(database)] == [MismatchReason.WRONG_ACCOUNT]

    async def test_transfer_to_another_account_is_not_booked(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        payment = await insert_donation(
            database, world.campaign, amount_minor=2500, destination_account_id="acct_1Nonprofit000"
        )
        await pay_for_real(world, payment)
        transfer = payment.transfer(transfer_id=new_id("tr"), destination=FORGER)

        await send(world, Delivery(event("transfer.created", transfer)))
        await process_all(database)

        async with database.transaction() as session:
            moved = await bookkeeping.donation_sums(session, uuid.UUID(payment.donation_id))
        assert bookkeeping.Code.TRANSFER not in moved
        (row,) = await mismatches(database)
        assert (row.reason, row.expected_account_id) == (MismatchReason.WRONG_ACCOUNT, "acct_1Nonprofit000")


class TestNotYetLinked:
    async def test_session_waits_while_checkout_has_not_recorded_it_then_confirms(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        payment = await insert_donation(database, world.campaign, amount_minor=2500)
        donation_id = uuid.UUID(payment.donation_id)
        async with database.transaction() as session:
            # Checkout's second transaction (recording the session id) has not committed yet.
            await session.execute(
                sa.update(Donation).where(Donation.id == donation_id).values(stripe_checkout_session_id=None)
            )
        evt = event("checkout.session.completed", payment.checkout_session())
        await send(world, Delivery(evt))

        await process_all(database, rounds=2)
        waiting = await event_row(database, evt["id"])
        async with database.transaction() as session:
            await session.execute(
                sa.update(Donation)
                .where(Donation.id == donation_id)
                .values(stripe_checkout_session_id=payment.session_id)
            )
        await process_all(database)

        assert (waiting.processed_at, waiting.attempts) == (None, 2)
        assert "not known yet" in (waiting.last_error or "")
        assert (await get_donation(database, payment.donation_id)).status is DonationStatus.CONFIRMED
        assert await mismatches(database) == []

    async def test_charge_and_intent_sent_before_their_session_bind_in_the_same_batch(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        payment = await insert_donation(database, world.campaign, amount_minor=2500)
        # The order Stripe (and the sandbox) usually sends a card payment in.
        for evt in (
            event("charge.succeeded", payment.charge(fingerprint="cardprint0000001", fee_minor=70)),
            event("payment_intent.succeeded", payment.payment_intent()),
            event("checkout.session.completed", payment.checkout_session()),
        ):
            await send(world, Delivery(evt))

        assert await process_due_events(database) == 3

        async with database.transaction() as session:
            rows = (await session.scalars(sa.select(WebhookEvent))).all()
        assert {(r.processed_at is not None, r.attempts) for r in rows} == {(True, 1)}
        donation = await get_donation(database, payment.donation_id)
        assert (donation.status, donation.card_fingerprint, donation.stripe_fee_minor) == (
            DonationStatus.CONFIRMED,
            "cardprint0000001",
            70,
        )

    async def test_payment_naming_a_donation_that_does_not_exist_is_recorded_not_retried(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        nobody = Payment(
            donation_id=uuid.uuid4(), session_id=new_id("cs_test"), amount_minor=2500, currency="eur"
        )
        evt = event("checkout.session.completed", nobody.checkout_session())

        await send(world, Delivery(evt))
        await process_all(database, rounds=1)

        row = await event_row(database, evt["id"])
        assert row.processed_at is not None
        (mismatch,) = await mismatches(database)
        assert (mismatch.reason, mismatch.donation_id, mismatch.claimed_donation_id) == (
            MismatchReason.UNKNOWN_PAYMENT,
            None,
            uuid.UUID(nobody.donation_id),
        )


class TestIdempotent:
    async def test_a_mismatch_replayed_by_an_admin_is_written_and_counted_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        victim = await insert_donation(database, world.campaign, amount_minor=2500)
        forged_event = event(
            "checkout.session.completed", forged(victim, amount_minor=50).checkout_session(), account=FORGER
        )
        before = counted(MismatchReason.WRONG_ACCOUNT)
        await send(world, Delivery(forged_event, connect=True))
        await send(world, Delivery(forged_event, connect=True))
        await process_all(database)
        row = await event_row(database, forged_event["id"])

        response = await client.post(
            f"/api/v1/admin/webhook-events/{row.id}/replay", json={}, headers=world.finance.headers
        )
        assert response.status_code == 200, response.text
        await process_all(database)

        assert len(await mismatches(database)) == 1
        assert counted(MismatchReason.WRONG_ACCOUNT) == before + 1
        assert (await event_row(database, forged_event["id"])).processed_at is not None
        await untouched(world, victim)
