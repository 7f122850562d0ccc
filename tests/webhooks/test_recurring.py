"""Recurring gifts through signed events in Stripe's modern shapes: every paid invoice is one
donation, booked, counted and confirmed like a one-off gift; failures, recovery, cancellation,
refunds of one installment; every event twice and in any order."""

from __future__ import annotations

import random
import uuid

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations import bookkeeping
from campaigns.donations.models import Donation, DonationStatus
from campaigns.integrations.models import IntegrationEvent
from campaigns.receipts.models import Receipt
from campaigns.recurring.models import RecurringGift, RecurringInstallment, RecurringStatus
from service import ledger
from service.db import Database
from service.settings import Settings
from tests.mail_server import SmtpServer, parts
from tests.webhooks.builders import LiveCampaign, deliver, get_campaign, process_all
from tests.webhooks.recurring_events import MONTH, T0, Recurring, insert_recurring_donation
from tests.webhooks.stripe_events import JSON, event, new_id


async def send(client: httpx.AsyncClient, settings: Settings, events: list[JSON]) -> None:
    for evt in events:
        response = await deliver(client, evt, settings.webhook_secret)
        assert response.status_code == 200, response.text


async def gift_of(database: Database, gift: Recurring) -> RecurringGift:
    async with database.transaction() as session:
        found = await session.scalar(
            sa.select(RecurringGift).where(RecurringGift.stripe_subscription_id == gift.subscription_id)
        )
    assert found is not None
    return found


async def installments(database: Database, gift: Recurring) -> list[Donation]:
    async with database.transaction() as session:
        found = await session.scalars(
            sa.select(Donation)
            .join(RecurringInstallment, RecurringInstallment.donation_id == Donation.id)
            .join(RecurringGift, RecurringGift.id == RecurringInstallment.recurring_gift_id)
            .where(RecurringGift.stripe_subscription_id == gift.subscription_id)
            .order_by(RecurringInstallment.number)
        )
        return list(found.all())


async def fact_keys(database: Database, fact_type: str) -> list[str]:
    async with database.transaction() as session:
        found = await session.scalars(
            sa.select(IntegrationEvent.key)
            .where(IntegrationEvent.type == fact_type)
            .order_by(IntegrationEvent.key)
        )
        return list(found.all())


async def campaign_balance(database: Database, campaign: LiveCampaign) -> int:
    async with database.transaction() as session:
        return await ledger.balance(
            session, code=bookkeeping.campaign_account(campaign.id), currency=campaign.currency
        )


def three_paid_months(gift: Recurring) -> list[JSON]:
    second, third = gift.installment(), gift.installment()
    return [
        *gift.started_events(at=T0),
        event(
            "customer.subscription.updated", gift.subscription(period_end=T0 + 2 * MONTH), created=T0 + MONTH
        ),
        *second.paid_events(at=T0 + MONTH),
        event(
            "customer.subscription.updated",
            gift.subscription(period_end=T0 + 3 * MONTH),
            created=T0 + 2 * MONTH,
        ),
        *third.paid_events(at=T0 + 2 * MONTH),
    ]


class TestPaidThreeTimes:
    async def test_each_paid_invoice_is_one_confirmed_donation(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        gift = await insert_recurring_donation(database, campaign, amount_minor=1000)

        await send(client, settings, three_paid_months(gift))
        await process_all(database)

        paid = await installments(database, gift)
        assert [d.installment for d in paid] == [1, 2, 3]
        assert str(paid[0].id) == gift.donation_id  # the checkout's own donation is the first
        assert {d.status for d in paid} == {DonationStatus.CONFIRMED}
        assert [d.stripe_invoice_id for d in paid] == [i.invoice_id for i in gift.installments]
        assert [d.stripe_payment_intent_id for d in paid] == [i.payment_intent_id for i in gift.installments]
        assert [d.stripe_charge_id for d in paid] == [i.charge_id for i in gift.installments]
        assert {d.donor_email for d in paid} == {"donor@example.org"}
        assert {d.recurring_interval for d in paid} == {"month"}
        assert await campaign_balance(database, campaign) == 3000
        totals = await get_campaign(database, campaign.id)
        assert (totals.raised_minor, totals.donor_count) == (3000, 1)
        row = await gift_of(database, gift)
        assert row.status is RecurringStatus.ACTIVE
        assert (row.amount_minor, row.interval.value, row.donor_email) == (1000, "month", "donor@example.org")
        assert row.stripe_customer_id == gift.customer_id
        assert await fact_keys(database, "recurring.started") == [f"recurring:{row.id}:started"]
        assert len(await fact_keys(database, "recurring.renewed")) == 2
        assert len(await fact_keys(database, "donation.confirmed")) == 3
        async with database.transaction() as session:
            receipts = (
                await session.execute(
                    sa.select(Receipt.donation_id, Receipt.number).where(Receipt.kind == "receipt")
                )
            ).all()
        assert {r[0] for r in receipts} == {d.id for d in paid}  # one receipt per installment
        assert len({r[1] for r in receipts}) == 3

    @pytest.mark.parametrize("seed", [1, 2, 3])
    async def test_every_event_twice_in_any_order_books_the_same(
        self,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        campaign: LiveCampaign,
        seed: int,
    ) -> None:
        gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
        events = three_paid_months(gift)
        shuffled = events + events
        random.Random(seed).shuffle(shuffled)

        await send(client, settings, shuffled)
        await process_all(database)

        paid = await installments(database, gift)
        assert [d.installment for d in paid] == [1, 2, 3]  # numbered in the order they were paid here
        assert {d.status for d in paid} == {DonationStatus.CONFIRMED}
        by_invoice = {d.stripe_invoice_id: d for d in paid}
        assert by_invoice[gift.first.invoice_id].id == uuid.UUID(gift.donation_id)
        assert {i: d.stripe_charge_id for i, d in by_invoice.items()} == {
            i.invoice_id: i.charge_id for i in gift.installments
        }
        assert await campaign_balance(database, campaign) == 3000
        totals = await get_campaign(database, campaign.id)
        assert (totals.raised_minor, totals.donor_count) == (3000, 1)
        assert len(await fact_keys(database, "recurring.renewed")) == 2
        assert len(await fact_keys(database, "recurring.started")) == 1
        async with database.transaction() as session:
            receipted = (
                await session.scalars(sa.select(Receipt.donation_id).where(Receipt.kind == "receipt"))
            ).all()
        assert sorted(receipted) == sorted(d.id for d in paid)

    async def test_an_invoice_before_its_checkout_session_waits_for_it(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
        session_event = gift.started_events()[-1]

        await send(client, settings, gift.first.paid_events(at=T0))
        await process_all(database, rounds=2)
        async with database.transaction() as session:
            first = await session.get(Donation, uuid.UUID(gift.donation_id))
        assert first is not None and first.status is DonationStatus.PENDING

        await send(client, settings, [session_event])
        await process_all(database)

        [paid] = await installments(database, gift)
        assert paid.status is DonationStatus.CONFIRMED
        assert paid.stripe_payment_intent_id == gift.first.payment_intent_id

    async def test_a_subscription_naming_none_of_our_donations_changes_nothing(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        stranger = Recurring(
            donation_id=uuid.uuid4(), session_id=new_id("cs_test"), amount_minor=1000, currency="eur"
        )

        await send(client, settings, stranger.started_events())
        await process_all(database)

        async with database.transaction() as session:
            assert (await session.scalars(sa.select(RecurringGift))).all() == []
            assert (await session.scalars(sa.select(Donation))).all() == []


class TestFailedInstallment:
    async def test_a_failed_installment_emails_once_and_a_later_payment_recovers(
        self,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        campaign: LiveCampaign,
        smtp_server: SmtpServer,
    ) -> None:
        gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
        await send(client, settings, gift.started_events())
        await process_all(database)
        await smtp_server.deliver(database)
        smtp_server.messages.clear()
        second = gift.installment()
        failed = [
            event("customer.subscription.updated", gift.subscription(status="past_due"), created=T0 + MONTH),
            event(
                "invoice.payment_failed",
                second.invoice(status="open", attempt_count=1, next_payment_attempt=T0 + MONTH + 3 * 86400),
                created=T0 + MONTH,
            ),
        ]

        await send(client, settings, failed + failed)
        await process_all(database)

        assert (await gift_of(database, gift)).status is RecurringStatus.PAST_DUE
        [message] = [m for m in await smtp_server.deliver(database) if "did not go through" in m["Subject"]]
        assert message["To"] == "donor@example.org"
        text, html = parts(message)
        assert "€10.00" in text or "€ 10,00" in text
        card_link = next(word for word in text.split() if "/recurring/card/" in word)
        assert card_link.startswith(settings.public_base_url)
        assert card_link in html

        recovered = [
            *second.paid_events(at=T0 + MONTH + 3 * 86400),
            event("customer.subscription.updated", gift.subscription(), created=T0 + MONTH + 3 * 86400),
        ]
        await send(client, settings, recovered + failed)
        await process_all(database)

        assert (await gift_of(database, gift)).status is RecurringStatus.ACTIVE
        paid = await installments(database, gift)
        assert [d.status for d in paid] == [DonationStatus.CONFIRMED, DonationStatus.CONFIRMED]
        assert [m for m in await smtp_server.deliver(database) if "did not go through" in m["Subject"]] == []
        assert len(await fact_keys(database, "recurring.payment_failed")) == 1

    async def test_a_failure_after_the_invoice_was_paid_changes_nothing(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
        second = gift.installment()
        await send(client, settings, [*gift.started_events(), *second.paid_events(at=T0 + MONTH)])
        await process_all(database)

        late = event(
            "invoice.payment_failed", second.invoice(status="open", attempt_count=1), created=T0 + MONTH
        )
        await send(client, settings, [late])
        await process_all(database)

        assert (await gift_of(database, gift)).status is RecurringStatus.ACTIVE
        assert await fact_keys(database, "recurring.payment_failed") == []

    async def test_every_retry_failing_ends_the_gift(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
        at = T0 + 2 * MONTH
        ended = gift.subscription(status="canceled", canceled_at=at, ended_at=at, reason="payment_failed")

        await send(
            client,
            settings,
            [*gift.started_events(), event("customer.subscription.deleted", ended, created=at)],
        )
        await process_all(database)

        row = await gift_of(database, gift)
        assert row.status is RecurringStatus.ENDED
        assert row.ended_at is not None
        assert len(await fact_keys(database, "recurring.canceled")) == 1


class TestCancellation:
    async def test_cancel_at_period_end_then_the_end(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
        asked = T0 + 10 * 86400
        await send(
            client,
            settings,
            [
                *gift.started_events(),
                event(
                    "customer.subscription.updated",
                    gift.subscription(cancel_at_period_end=True, canceled_at=asked),
                    created=asked,
                ),
            ],
        )
        await process_all(database)

        row = await gift_of(database, gift)
        assert row.status is RecurringStatus.ACTIVE  # paid until the period ends, as at Stripe
        assert row.cancel_at is not None
        assert await fact_keys(database, "recurring.canceled") == []

        end = T0 + MONTH
        deleted = gift.subscription(
            status="canceled", canceled_at=asked, ended_at=end, reason="cancellation_requested"
        )
        await send(client, settings, [event("customer.subscription.deleted", deleted, created=end)] * 2)
        await process_all(database)

        row = await gift_of(database, gift)
        assert row.status is RecurringStatus.CANCELED
        assert row.canceled_at is not None and int(row.canceled_at.timestamp()) == asked
        assert len(await fact_keys(database, "recurring.canceled")) == 1

    async def test_an_update_and_a_failure_in_one_batch_both_stay(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        # The failure's handler locks the gift again in the same transaction: the update the
        # first handler left unwritten must survive that reload.
        gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
        await send(client, settings, gift.started_events())
        await process_all(database)
        asked = T0 + 10 * 86400
        second = gift.installment()
        await send(
            client,
            settings,
            [
                event(
                    "customer.subscription.updated",
                    gift.subscription(cancel_at_period_end=True, canceled_at=asked),
                    created=asked,
                ),
                event(
                    "invoice.payment_failed",
                    second.invoice(status="open", attempt_count=1, next_payment_attempt=T0 + MONTH + 86400),
                    created=asked + 60,
                ),
            ],
        )
        await process_all(database)

        row = await gift_of(database, gift)
        assert row.cancel_at is not None
        assert row.stripe_updated_at is not None and int(row.stripe_updated_at.timestamp()) >= asked
        assert row.status is RecurringStatus.PAST_DUE

    async def test_an_older_update_delivered_late_does_not_revive_a_canceled_gift(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
        end = T0 + 5 * 86400
        deleted = gift.subscription(
            status="canceled", canceled_at=end, ended_at=end, reason="cancellation_requested"
        )
        stale = event("customer.subscription.updated", gift.subscription(), created=T0 + 86400)

        await send(
            client,
            settings,
            [*gift.started_events(), event("customer.subscription.deleted", deleted, created=end)],
        )
        await process_all(database)
        await send(client, settings, [stale])
        await process_all(database)

        assert (await gift_of(database, gift)).status is RecurringStatus.CANCELED


class TestRefundOfOneInstallment:
    async def test_the_refund_binds_to_its_own_installment(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
    ) -> None:
        gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
        events = three_paid_months(gift)
        second = gift.installments[1]
        refund = second.refund(refund_id=new_id("re"), amount_minor=1000)
        refunded = [
            event("refund.created", refund, created=T0 + 40 * 86400),
            event("charge.refunded", second.charge(amount_refunded=1000), created=T0 + 40 * 86400),
        ]

        await send(client, settings, refunded + events)
        await process_all(database)

        paid = await installments(database, gift)
        assert [d.status for d in paid] == [
            DonationStatus.CONFIRMED,
            DonationStatus.REFUNDED,
            DonationStatus.CONFIRMED,
        ]
        assert await campaign_balance(database, campaign) == 2000
        totals = await get_campaign(database, campaign.id)
        assert totals.raised_minor == 2000
        assert (await gift_of(database, gift)).status is RecurringStatus.ACTIVE


class TestFailedPaymentEmailLanguage:
    async def test_a_dutch_donor_reads_it_in_dutch(
        self,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        campaign: LiveCampaign,
        smtp_server: SmtpServer,
    ) -> None:
        gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
        async with database.transaction() as session:
            await session.execute(
                sa.update(Donation).where(Donation.id == uuid.UUID(gift.donation_id)).values(language="nl")
            )
        second = gift.installment()
        failed = event(
            "invoice.payment_failed", second.invoice(status="open", attempt_count=4), created=T0 + MONTH
        )

        await send(client, settings, [*gift.started_events(), failed])
        await process_all(database)

        [message] = [m for m in await smtp_server.deliver(database) if "niet gelukt" in m["Subject"]]
        assert message["Subject"].startswith("Je maandelijkse gift aan ")
        assert message["Content-Language"] == "nl"
        text, _ = parts(message)
        assert "Stripe probeert het niet meer vanzelf" in text  # the last attempt: no retry date
