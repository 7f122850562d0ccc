"""A monthly gift end to end through the real SDK and the local Stripe sandbox over HTTP: the
checkout API starts a subscription Checkout, the sandbox pays it, renews it, fails and retries a
renewal, refunds one installment and cancels; the worker applies the signed webhooks."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations.models import Donation, DonationStatus
from campaigns.recurring.models import RecurringGift, RecurringInstallment, RecurringStatus
from service.app import check_ledger
from service.db import Database
from tests.campaigns.giving.helpers import live
from tests.campaigns.giving.sandboxed import Served, served

__all__ = ["served"]
T = TypeVar("T")


@pytest.fixture
async def http(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        yield client


async def eventually(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 30) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if done(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


async def gift_and_installments(
    database: Database, first_id: uuid.UUID
) -> tuple[RecurringGift | None, list[Donation]]:
    async with database.transaction() as session:
        gift = await session.scalar(
            sa.select(RecurringGift)
            .where(RecurringGift.first_donation_id == first_id)
            .execution_options(populate_existing=True)
        )
        if gift is None:
            return None, []
        rows = await session.scalars(
            sa.select(Donation)
            .join(RecurringInstallment, RecurringInstallment.donation_id == Donation.id)
            .where(RecurringInstallment.recurring_gift_id == gift.id)
            .order_by(RecurringInstallment.number)
            .execution_options(populate_existing=True)
        )
        return gift, list(rows.all())


class TestMonthlyGiftInTheSandbox:
    async def test_paid_three_times_refunded_once_failed_recovered_and_canceled(
        self, served: Served, http: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(http, database)
        response = await http.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={
                "amount_minor": 1000,
                "currency": "eur",
                "email": "ada@example.org",
                "frequency": "monthly",
            },
        )
        assert response.status_code == 201, response.text
        first_id = uuid.UUID(response.json()["donation_id"])
        async with database.transaction() as session:
            first = await session.get(Donation, first_id)
        assert first is not None and first.stripe_checkout_session_id is not None
        client = served.stripe()
        checkout = await client.v1.checkout.sessions.retrieve_async(first.stripe_checkout_session_id)
        assert checkout.mode == "subscription"

        await served.control(http, f"sessions/{checkout.id}/pay")

        def paid(n: int) -> Callable[[tuple[RecurringGift | None, list[Donation]]], bool]:
            return lambda found: len([d for d in found[1] if d.status is DonationStatus.CONFIRMED]) >= n

        probe = lambda: gift_and_installments(database, first_id)  # noqa: E731
        gift, donations = await eventually(probe, paid(1))
        assert gift is not None and gift.status is RecurringStatus.ACTIVE
        subscription_id = gift.stripe_subscription_id

        await served.control(http, f"subscriptions/{subscription_id}/renew", {"outcome": "succeed"})
        await eventually(probe, paid(2))
        await served.control(http, f"subscriptions/{subscription_id}/renew", {"outcome": "fail"})
        gift, donations = await eventually(
            probe, lambda f: f[0] is not None and f[0].status is RecurringStatus.PAST_DUE
        )
        assert gift is not None and gift.status is RecurringStatus.PAST_DUE
        invoices = await client.v1.invoices.list_async({"subscription": subscription_id, "status": "open"})
        [open_invoice] = invoices.data
        assert open_invoice.id is not None
        await served.control(http, f"invoices/{open_invoice.id}/retry", {"outcome": "succeed"})
        gift, donations = await eventually(
            probe, lambda f: paid(3)(f) and f[0] is not None and f[0].status is RecurringStatus.ACTIVE
        )
        assert [d.status for d in donations] == [DonationStatus.CONFIRMED] * 3
        assert [d.installment for d in donations] == [1, 2, 3]

        second = donations[1]
        assert second.stripe_payment_intent_id is not None
        await client.v1.refunds.create_async({"payment_intent": second.stripe_payment_intent_id})
        _, donations = await eventually(probe, lambda f: f[1][1].status is DonationStatus.REFUNDED)
        assert [d.status for d in donations] == [
            DonationStatus.CONFIRMED,
            DonationStatus.REFUNDED,
            DonationStatus.CONFIRMED,
        ]

        await client.v1.subscriptions.cancel_async(subscription_id)
        gift, _ = await eventually(
            probe, lambda f: f[0] is not None and f[0].status is RecurringStatus.CANCELED
        )
        assert gift is not None and gift.status is RecurringStatus.CANCELED
        assert await check_ledger(database) == []
