"""Checkout, payment intent and charge events move donations forward, book money once, keep totals."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from campaigns.donations import bookkeeping
from campaigns.donations.models import DonationStatus
from service import ledger
from service.db import Database
from service.settings import Settings
from tests.webhooks import stripe_events
from tests.webhooks.builders import (
    LiveCampaign,
    deliver,
    get_campaign,
    get_donation,
    insert_donation,
    process_all,
)
from webhooks.models import WebhookEvent


async def campaign_balance(database: Database, campaign: LiveCampaign) -> int:
    async with database.transaction() as session:
        return await ledger.balance(
            session, code=bookkeeping.campaign_account(campaign.id), currency=campaign.currency
        )


class TestCheckoutCompleted:
    async def test_paid_session_confirms_and_books_the_gift(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign, amount_minor=2500)

        await deliver(
            client,
            stripe_events.event("checkout.session.completed", payment.checkout_session()),
            settings.webhook_secret,
        )
        await process_all(database)

        donation = await get_donation(database, payment.donation_id)
        assert donation.status is DonationStatus.CONFIRMED
        assert donation.stripe_payment_intent_id == payment.payment_intent_id
        assert donation.donor_email == "donor@example.org"
        assert donation.confirmed_at is not None
        assert await campaign_balance(database, campaign) == 2500
        totals = await get_campaign(database, campaign.id)
        assert (totals.raised_minor, totals.donor_count) == (2500, 1)

    async def test_sibling_events_count_the_donation_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign, amount_minor=1000, fee_cover_minor=60)
        events = [
            stripe_events.event("charge.succeeded", payment.charge(fee_minor=45)),
            stripe_events.event("payment_intent.succeeded", payment.payment_intent()),
            stripe_events.event("checkout.session.completed", payment.checkout_session()),
        ]

        for evt in events + events:
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database)

        donation = await get_donation(database, payment.donation_id)
        assert donation.status is DonationStatus.CONFIRMED
        assert (donation.stripe_charge_id, donation.stripe_fee_minor) == (payment.charge_id, 45)
        assert await campaign_balance(database, campaign) == 1000
        async with database.transaction() as session:
            assert (
                await ledger.balance(session, code=bookkeeping.PLATFORM_FEE_COVER, currency="eur") == 60 - 45
            )
            assert await ledger.balance(session, code=bookkeeping.STRIPE_FEES, currency="eur") == 45
        totals = await get_campaign(database, campaign.id)
        assert (totals.raised_minor, totals.donor_count) == (1000, 1)

    async def test_unpaid_session_waits_for_the_delayed_payment(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign)
        completed = stripe_events.event(
            "checkout.session.completed", payment.checkout_session(payment_status="unpaid")
        )

        await deliver(client, completed, settings.webhook_secret)
        await process_all(database)
        processing = (await get_donation(database, payment.donation_id)).status
        succeeded = stripe_events.event(
            "checkout.session.async_payment_succeeded", payment.checkout_session()
        )
        await deliver(client, succeeded, settings.webhook_secret)
        await process_all(database)

        assert processing is DonationStatus.PROCESSING
        assert (await get_donation(database, payment.donation_id)).status is DonationStatus.CONFIRMED
        assert (await get_campaign(database, campaign.id)).raised_minor == 2500

    async def test_delayed_payment_failure_fails_the_donation(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign)
        for event_type, status in [
            ("checkout.session.completed", "unpaid"),
            ("checkout.session.async_payment_failed", "unpaid"),
        ]:
            evt = stripe_events.event(event_type, payment.checkout_session(payment_status=status))
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database)

        assert (await get_donation(database, payment.donation_id)).status is DonationStatus.FAILED
        assert await campaign_balance(database, campaign) == 0

    async def test_expired_session_expires_a_pending_donation(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign)
        expired = payment.checkout_session(payment_status="unpaid", status="expired")

        await deliver(
            client, stripe_events.event("checkout.session.expired", expired), settings.webhook_secret
        )
        await process_all(database)

        assert (await get_donation(database, payment.donation_id)).status is DonationStatus.EXPIRED


class TestForwardOnly:
    async def test_late_failure_never_undoes_a_confirmation(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign)
        for evt in [
            stripe_events.event("checkout.session.completed", payment.checkout_session()),
            stripe_events.event("payment_intent.succeeded", payment.payment_intent()),
        ]:
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database)

        failed = stripe_events.event(
            "payment_intent.payment_failed", payment.payment_intent(status="requires_payment_method")
        )
        await deliver(client, failed, settings.webhook_secret)
        await process_all(database)

        assert (await get_donation(database, payment.donation_id)).status is DonationStatus.CONFIRMED
        assert (await get_campaign(database, campaign.id)).raised_minor == 2500

    async def test_a_retry_that_succeeds_after_a_failure_confirms(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign)
        # A delayed method: the session links its intent, whose failure and later success follow.
        completed = stripe_events.event(
            "checkout.session.completed", payment.checkout_session(payment_status="unpaid")
        )
        failed = stripe_events.event(
            "payment_intent.payment_failed", payment.payment_intent(status="requires_payment_method")
        )
        await deliver(client, completed, settings.webhook_secret)
        await deliver(client, failed, settings.webhook_secret)
        await deliver(
            client,
            stripe_events.event("payment_intent.succeeded", payment.payment_intent()),
            settings.webhook_secret,
        )
        await process_all(database)

        assert (await get_donation(database, payment.donation_id)).status is DonationStatus.CONFIRMED


class TestCharge:
    async def test_charge_records_fingerprint_risk_and_fee_without_confirming(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign)
        # The session event links the intent the charge belongs to; unpaid, it confirms nothing.
        completed = stripe_events.event(
            "checkout.session.completed", payment.checkout_session(payment_status="unpaid")
        )

        await deliver(client, completed, settings.webhook_secret)
        await deliver(
            client,
            stripe_events.event("charge.succeeded", payment.charge(fee_minor=70)),
            settings.webhook_secret,
        )
        await process_all(database)

        donation = await get_donation(database, payment.donation_id)
        assert donation.status is DonationStatus.PROCESSING
        assert (donation.card_fingerprint, donation.risk_score, donation.risk_level) == (
            "AOB934RVNwzk6xtn",
            23,
            "normal",
        )
        assert (donation.stripe_charge_id, donation.stripe_fee_minor) == (payment.charge_id, 70)


class TestUnknown:
    async def test_event_for_a_payment_not_linked_yet_is_retried_not_dropped(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        # The intent's event overtook the session event that links the intent to the donation.
        payment = await insert_donation(database, campaign)
        await deliver(
            client,
            stripe_events.event("payment_intent.succeeded", payment.payment_intent()),
            settings.webhook_secret,
        )

        await process_all(database, rounds=3)

        async with database.transaction() as session:
            row = await session.scalar(sa.select(WebhookEvent))
        assert row is not None
        assert (row.processed_at, row.attempts, row.dead) == (None, 3, False)
        assert row.last_error is not None
        assert "not known yet" in row.last_error

    async def test_payment_made_outside_goodloop_is_ignored(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        foreign = stripe_events.event("payment_intent.succeeded", stripe_events.example("payment_intent"))
        await deliver(client, foreign, settings.webhook_secret)

        await process_all(database)

        async with database.transaction() as session:
            row = await session.scalar(sa.select(WebhookEvent))
        assert row is not None
        assert row.processed_at is not None
