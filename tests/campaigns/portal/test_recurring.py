"""Recurring gifts in the portal, through the real SDK against the Stripe sandbox: change the
amount, cancel, update the card. Our books change only from Stripe's webhooks, so until they
land the portal shows the request as pending."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations.models import Donation, DonationStatus
from campaigns.portal import signin
from campaigns.portal.models import ChangeKind, RecurringChange
from campaigns.recurring.models import Interval, RecurringGift, RecurringStatus
from service.db import Database
from tests import builders
from tests.campaigns.giving.sandboxed import Served, served
from tests.campaigns.portal.helpers import csrf_in, follow_link

__all__ = ["served"]


@dataclass(frozen=True)
class Plan:
    gift_id: uuid.UUID
    subscription_id: str
    campaign_slug: str


@pytest.fixture
async def database(served: Served) -> AsyncIterator[Database]:
    db = Database.from_url(served.settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def http(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        yield client


async def monthly_gift(served: Served, database: Database, http: httpx.AsyncClient, *, email: str) -> Plan:
    """A donor subscribed at Stripe (the sandbox's Checkout, paid) and the gift in our books."""
    org = await builders.sign_up(http)
    admin = await builders.insert_admin(database)
    await builders.verify(http, admin, org)
    campaign = await builders.live_campaign(http, org, admin)
    stripe = served.stripe()
    session = await stripe.v1.checkout.sessions.create_async(
        {
            "mode": "subscription",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 1_000,
                        "product_data": {"name": "Monthly gift"},
                        "recurring": {"interval": "month"},
                    },
                }
            ],
            "customer_email": email,
            "success_url": served.url + "/thanks",
            "cancel_url": served.url + "/",
        }
    )
    await served.control(http, f"sessions/{session.id}/pay")
    paid = await stripe.v1.checkout.sessions.retrieve_async(session.id)
    assert isinstance(paid.subscription, str) and isinstance(paid.customer, str)
    now = datetime.now(UTC)
    async with database.transaction() as tx:
        donation = Donation(
            campaign_id=uuid.UUID(campaign["id"]),
            nonprofit_id=uuid.UUID(org.id),
            amount_minor=1_000,
            fee_cover_minor=0,
            currency="eur",
            status=DonationStatus.CONFIRMED,
            donor_email=email,
            confirmed_at=now,
        )
        tx.add(donation)
        await tx.flush()
        gift = RecurringGift(
            nonprofit_id=uuid.UUID(org.id),
            campaign_id=uuid.UUID(campaign["id"]),
            first_donation_id=donation.id,
            donor_email=email,
            amount_minor=1_000,
            fee_cover_minor=0,
            currency="eur",
            interval=Interval.MONTH,
            status=RecurringStatus.ACTIVE,
            stripe_subscription_id=paid.subscription,
            stripe_customer_id=paid.customer,
            started_at=now,
        )
        tx.add(gift)
        await tx.flush()
        gift_id = gift.id
    return Plan(gift_id=gift_id, subscription_id=paid.subscription, campaign_slug=campaign["slug"])


async def sign_in(http: httpx.AsyncClient, database: Database, email: str) -> None:
    async with database.transaction() as tx:
        issued = await signin.issue_link(tx, email=email, language="en")
    assert (await follow_link(http, issued.token)).status_code == 303


async def post(http: httpx.AsyncClient, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    home = await http.get("/donor")
    return await http.post(path, data={"csrf_token": csrf_in(home.text), **(data or {})})


async def changes(database: Database, gift_id: uuid.UUID) -> list[RecurringChange]:
    async with database.unit_of_work() as tx:
        return list(
            await tx.scalars(
                sa.select(RecurringChange)
                .where(RecurringChange.recurring_gift_id == gift_id)
                .order_by(RecurringChange.created_at)
            )
        )


async def gift_row(database: Database, gift_id: uuid.UUID) -> RecurringGift:
    async with database.unit_of_work() as tx:
        gift = await tx.get(RecurringGift, gift_id, populate_existing=True)
        assert gift is not None
        return gift


class TestChangeAmount:
    async def test_the_new_amount_goes_to_stripe_and_shows_as_pending(
        self, served: Served, database: Database, http: httpx.AsyncClient
    ) -> None:
        plan = await monthly_gift(served, database, http, email="Ada@Example.org")
        await sign_in(http, database, "ada@example.org")
        home = await http.get("/donor")
        assert "€10.00" in home.text and 'data-state="active"' in home.text

        response = await post(http, f"/donor/recurring/{plan.gift_id}/amount", {"amount": "25"})
        assert response.status_code == 303

        subscription = await served.stripe().v1.subscriptions.retrieve_async(plan.subscription_id)
        item = subscription["items"]["data"][0]
        assert item["price"]["unit_amount"] == 2_500
        assert subscription.metadata["amount_minor"] == "2500"
        [change] = await changes(database, plan.gift_id)
        assert (change.kind, change.amount_minor) == (ChangeKind.AMOUNT, 2_500)
        assert change.sent_at is not None and change.failed_at is None
        page = await http.get("/donor")
        assert 'data-state="amount-pending"' in page.text
        assert "Changing to €25.00 per month" in page.text

    async def test_an_amount_below_the_campaigns_minimum_is_refused_next_to_the_field(
        self, served: Served, database: Database, http: httpx.AsyncClient
    ) -> None:
        plan = await monthly_gift(served, database, http, email="ada@example.org")
        await sign_in(http, database, "ada@example.org")
        for typed in ("0.10", "abc", "10.001"):
            response = await post(http, f"/donor/recurring/{plan.gift_id}/amount", {"amount": typed})
            assert response.status_code == 422
            assert f'id="amount-error-{plan.gift_id}"' in response.text
        subscription = await served.stripe().v1.subscriptions.retrieve_async(plan.subscription_id)
        assert subscription["items"]["data"][0]["price"]["unit_amount"] == 1_000
        assert await changes(database, plan.gift_id) == []


class TestCancel:
    async def test_cancel_asks_first_then_stripe_cancels_and_the_portal_says_cancelling(
        self, served: Served, database: Database, http: httpx.AsyncClient
    ) -> None:
        plan = await monthly_gift(served, database, http, email="ada@example.org")
        await sign_in(http, database, "ada@example.org")
        confirm = await http.get(f"/donor/recurring/{plan.gift_id}/cancel")
        assert confirm.status_code == 200
        assert "Yes, cancel my gift" in confirm.text
        subscription = await served.stripe().v1.subscriptions.retrieve_async(plan.subscription_id)
        assert subscription.status == "active"  # asking is not cancelling

        response = await http.post(
            f"/donor/recurring/{plan.gift_id}/cancel", data={"csrf_token": csrf_in(confirm.text)}
        )
        assert response.status_code == 303
        subscription = await served.stripe().v1.subscriptions.retrieve_async(plan.subscription_id)
        assert subscription.status == "canceled"
        page = await http.get("/donor")
        canceled_in_books = (await gift_row(database, plan.gift_id)).status is RecurringStatus.CANCELED
        # Until customer.subscription.deleted lands the portal says so honestly; after, "Canceled".
        assert ('data-state="cancelling"' in page.text) or canceled_in_books


class TestUpdateCard:
    async def test_update_card_opens_stripes_billing_portal_for_the_gifts_customer(
        self, served: Served, database: Database, http: httpx.AsyncClient
    ) -> None:
        plan = await monthly_gift(served, database, http, email="ada@example.org")
        await sign_in(http, database, "ada@example.org")
        response = await post(http, f"/donor/recurring/{plan.gift_id}/card")
        assert response.status_code == 303
        location = response.headers["location"]
        assert location.startswith(served.stripe_base)
        portal = await http.get(location)
        assert portal.status_code == 200
        assert "€10.00" in portal.text


class TestIsolation:
    async def test_another_donor_cannot_see_or_touch_the_gift(
        self, served: Served, database: Database, http: httpx.AsyncClient
    ) -> None:
        plan = await monthly_gift(served, database, http, email="ada@example.org")
        await sign_in(http, database, "eve@example.org")
        home = await http.get("/donor")
        assert str(plan.gift_id) not in home.text
        assert (await http.get(f"/donor/recurring/{plan.gift_id}/cancel")).status_code == 404
        for action in ("amount", "cancel", "card"):
            response = await post(http, f"/donor/recurring/{plan.gift_id}/{action}", {"amount": "25"})
            assert response.status_code == 404, action
        subscription = await served.stripe().v1.subscriptions.retrieve_async(plan.subscription_id)
        assert subscription.status == "active"
        assert subscription["items"]["data"][0]["price"]["unit_amount"] == 1_000
        assert await changes(database, plan.gift_id) == []

    async def test_signed_out_visitors_are_sent_to_sign_in(
        self, served: Served, database: Database, http: httpx.AsyncClient
    ) -> None:
        plan = await monthly_gift(served, database, http, email="ada@example.org")
        response = await http.get(f"/donor/recurring/{plan.gift_id}/cancel")
        assert response.status_code == 303
        assert response.headers["location"] == "/donor"
