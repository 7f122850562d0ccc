"""Refunds, disputes, fraud warnings, Connect account status and transfers."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from campaigns.donations import bookkeeping
from campaigns.donations.models import DonationStatus
from campaigns.nonprofits.models import Nonprofit
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
from tests.webhooks.stripe_events import Payment, event
from webhooks.models import WebhookEvent


async def paid(client: httpx.AsyncClient, settings: Settings, payment: Payment) -> None:
    await deliver(
        client, event("checkout.session.completed", payment.checkout_session()), settings.webhook_secret
    )
    await deliver(client, event("charge.succeeded", payment.charge()), settings.webhook_secret)


async def balance(database: Database, code: str) -> int:
    async with database.transaction() as session:
        return await ledger.balance(session, code=code, currency="eur")


class TestRefunds:
    async def test_partial_refund_reduces_the_total(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign, amount_minor=5000)
        await paid(client, settings, payment)
        refund = payment.refund(refund_id="re_partial", amount_minor=1500)

        for evt in [
            event("refund.created", refund),
            event("charge.refunded", payment.charge(amount_refunded=1500)),
            event("refund.updated", refund),
        ]:
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database)

        donation = await get_donation(database, payment.donation_id)
        assert (donation.status, donation.refunded_minor) == (DonationStatus.PARTIALLY_REFUNDED, 1500)
        assert (await get_campaign(database, campaign.id)).raised_minor == 3500
        assert await balance(database, bookkeeping.DONORS_REFUNDS) == 1500

    async def test_refunds_in_full_take_the_donation_out_of_the_total(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign, amount_minor=5000)
        await paid(client, settings, payment)
        first = payment.refund(refund_id="re_1", amount_minor=2000)
        second = payment.refund(refund_id="re_2", amount_minor=3000)

        # The charge's total arrives before the second refund: it waits for it.
        for evt in [
            event("refund.created", first),
            event("charge.refunded", payment.charge(amount_refunded=5000)),
            event("refund.created", second),
        ]:
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database)

        donation = await get_donation(database, payment.donation_id)
        assert (donation.status, donation.refunded_minor) == (DonationStatus.REFUNDED, 5000)
        totals = await get_campaign(database, campaign.id)
        assert (totals.raised_minor, totals.donor_count) == (0, 0)

    async def test_refunds_listed_on_the_charge_count_like_refund_events(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign, amount_minor=5000)
        await paid(client, settings, payment)
        refund = payment.refund(refund_id="re_inline", amount_minor=1000)

        await deliver(
            client,
            event("charge.refunded", payment.charge(amount_refunded=1000, refunds=[refund])),
            settings.webhook_secret,
        )
        await deliver(client, event("refund.updated", refund), settings.webhook_secret)
        await process_all(database)

        assert (await get_donation(database, payment.donation_id)).refunded_minor == 1000

    async def test_failed_refund_gives_the_money_back(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign, amount_minor=5000)
        await paid(client, settings, payment)
        refund = payment.refund(refund_id="re_fails", amount_minor=1000, status="pending")

        await deliver(client, event("refund.created", refund), settings.webhook_secret)
        await process_all(database)
        await deliver(client, event("refund.failed", {**refund, "status": "failed"}), settings.webhook_secret)
        await process_all(database)

        donation = await get_donation(database, payment.donation_id)
        assert donation.refunded_minor == 0
        assert await balance(database, bookkeeping.campaign_account(campaign.id)) == 5000

    async def test_refund_before_the_payment_events_still_books_the_payment(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign, amount_minor=5000)
        refund = payment.refund(refund_id="re_early", amount_minor=5000)

        await deliver(client, event("refund.created", refund), settings.webhook_secret)
        await process_all(database, rounds=2)
        await paid(client, settings, payment)
        await process_all(database)

        donation = await get_donation(database, payment.donation_id)
        assert (donation.status, donation.refunded_minor) == (DonationStatus.REFUNDED, 5000)
        assert await balance(database, bookkeeping.campaign_account(campaign.id)) == 0


class TestDisputes:
    async def test_lost_dispute_withdraws_the_funds_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign, amount_minor=4000)
        await paid(client, settings, payment)
        for event_type, status in [
            ("charge.dispute.created", "needs_response"),
            ("charge.dispute.funds_withdrawn", "needs_response"),
            ("charge.dispute.closed", "lost"),
        ]:
            await deliver(
                client,
                event(event_type, payment.dispute(dispute_id="dp_1", status=status)),
                settings.webhook_secret,
            )
        await process_all(database)

        assert (await get_donation(database, payment.donation_id)).status is DonationStatus.DISPUTED
        assert (await get_campaign(database, campaign.id)).raised_minor == 0
        assert await balance(database, bookkeeping.DONORS_DISPUTES) == 4000

    async def test_won_dispute_reinstates_the_funds(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign, amount_minor=4000)
        await paid(client, settings, payment)
        for event_type, status in [
            ("charge.dispute.funds_reinstated", "won"),
            ("charge.dispute.funds_withdrawn", "needs_response"),
            ("charge.dispute.closed", "won"),
        ]:
            await deliver(
                client,
                event(event_type, payment.dispute(dispute_id="dp_2", status=status)),
                settings.webhook_secret,
            )
        await process_all(database)

        assert await balance(database, bookkeeping.DONORS_DISPUTES) == 0
        assert await balance(database, bookkeeping.campaign_account(campaign.id)) == 4000

    async def test_inquiry_does_not_settle_anything(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign, amount_minor=4000)
        await paid(client, settings, payment)
        inquiry = payment.dispute(dispute_id="dp_3", status="warning_needs_response")

        await deliver(client, event("charge.dispute.created", inquiry), settings.webhook_secret)
        await process_all(database)

        assert (await get_donation(database, payment.donation_id)).status is DonationStatus.CONFIRMED


class TestFraudWarning:
    async def test_early_fraud_warning_flags_the_donation(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        payment = await insert_donation(database, campaign)
        await paid(client, settings, payment)

        await deliver(
            client,
            event("radar.early_fraud_warning.created", payment.early_fraud_warning()),
            settings.webhook_secret,
        )
        await process_all(database)

        assert (await get_donation(database, payment.donation_id)).early_fraud_warning is True


class TestConnect:
    async def connect(self, database: Database, campaign: LiveCampaign) -> str:
        account_id = f"acct_{uuid.uuid4().hex[:16]}"
        async with database.transaction() as session:
            nonprofit = await session.get(Nonprofit, campaign.nonprofit_id)
            assert nonprofit is not None
            nonprofit.stripe_account_id = account_id
        return account_id

    async def test_account_updated_copies_the_account_state(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        account_id = await self.connect(database, campaign)
        obj = stripe_events.account(
            account_id=account_id,
            charges_enabled=True,
            payouts_enabled=False,
            currently_due=["external_account"],
        )

        response = await deliver(
            client,
            event("account.updated", obj, account=account_id),
            settings.connect_webhook_secret,
            path="/webhooks/stripe/connect",
        )
        await process_all(database)

        assert response.status_code == 200
        async with database.transaction() as session:
            nonprofit = await session.get(Nonprofit, campaign.nonprofit_id)
        assert nonprofit is not None
        assert (nonprofit.charges_enabled, nonprofit.payouts_enabled, nonprofit.requirements_due) == (
            True,
            False,
            ["external_account"],
        )

    async def test_an_older_account_update_arriving_late_is_ignored(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        account_id = await self.connect(database, campaign)
        newer = stripe_events.account(
            account_id=account_id, charges_enabled=True, payouts_enabled=True, currently_due=[]
        )
        older = stripe_events.account(
            account_id=account_id,
            charges_enabled=False,
            payouts_enabled=False,
            currently_due=["tos_acceptance.date"],
        )

        for obj, created in [(newer, 2_000_000_000), (older, 1_999_999_000)]:
            evt = event("account.updated", obj, account=account_id, created=created)
            await deliver(client, evt, settings.connect_webhook_secret, path="/webhooks/stripe/connect")
            await process_all(database)

        async with database.transaction() as session:
            nonprofit = await session.get(Nonprofit, campaign.nonprofit_id)
        assert nonprofit is not None
        assert (nonprofit.charges_enabled, nonprofit.payouts_enabled) == (True, True)

    async def test_transfer_and_its_reversal_are_booked_once(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        destination = f"acct_{uuid.uuid4().hex[:16]}"
        payment = await insert_donation(
            database, campaign, amount_minor=3000, destination_account_id=destination
        )
        await paid(client, settings, payment)
        created = payment.transfer(transfer_id="tr_1")
        reversed_part = payment.transfer(transfer_id="tr_1", amount_reversed=1000)

        for evt in [event("transfer.created", created), event("transfer.reversed", reversed_part)] * 2:
            await deliver(client, evt, settings.webhook_secret)
        await process_all(database)

        assert await balance(database, bookkeeping.nonprofit_account(campaign.nonprofit_id)) == 2000
        async with database.transaction() as session:
            dead = await session.scalar(
                sa.select(sa.func.count())
                .select_from(WebhookEvent)
                .where(WebhookEvent.processed_at.is_(None))
            )
        assert dead == 0
