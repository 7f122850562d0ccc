"""Recurring gifts in the portal, through the real SDK against the Stripe sandbox: change the
amount, cancel, update the card. Our books change only from Stripe's webhooks, so until they
land the portal shows the request as pending."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations.models import Donation
from campaigns.portal import signin
from campaigns.portal.models import ChangeKind, RecurringChange
from campaigns.recurring.models import RecurringGift, RecurringStatus
from service.db import Database
from tests import builders
from tests.campaigns.giving.sandboxed import Served, served
from tests.campaigns.portal.helpers import csrf_in, follow_link
from tests.webhooks.builders import deliver

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
    """A donor gives monthly through the checkout API and pays on the sandbox's Checkout; the
    gift exists in our books once Stripe's webhooks have been processed."""
    org = await builders.sign_up(http)
    admin = await builders.insert_admin(database)
    await builders.verify(http, admin, org)
    campaign = await builders.live_campaign(http, org, admin)
    started = await http.post(
        f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
        json={"amount_minor": 1_000, "currency": "eur", "email": email, "frequency": "monthly"},
    )
    assert started.status_code == 201, started.text
    async with database.unit_of_work() as tx:
        session_id = await tx.scalar(
            sa.select(Donation.stripe_checkout_session_id).where(
                Donation.id == uuid.UUID(started.json()["donation_id"])
            )
        )
    await served.control(http, f"sessions/{session_id}/pay")
    gift = await wait_for_gift(database, lambda g: g is not None)
    assert gift is not None
    return Plan(gift_id=gift.id, subscription_id=gift.stripe_subscription_id, campaign_slug=campaign["slug"])


async def wait_for_gift(
    database: Database, ready: Callable[[RecurringGift | None], bool], *, gift_id: uuid.UUID | None = None
) -> RecurringGift | None:
    """Stripe's webhooks arrive and are processed a moment later: look until `ready` or 20 s."""
    deadline = time.monotonic() + 20
    while True:
        async with database.unit_of_work() as tx:
            query = sa.select(RecurringGift).execution_options(populate_existing=True)
            if gift_id is not None:
                query = query.where(RecurringGift.id == gift_id)
            gift = await tx.scalar(query)
        if ready(gift) or time.monotonic() > deadline:
            return gift
        await asyncio.sleep(0.2)


async def emitted(served: Served, http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.get(f"{served.stripe_base}/_control/events")
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


async def held_back(served: Served, http: httpx.AsyncClient) -> int:
    """From now on the sandbox records Stripe's events but delivers none (our endpoint is
    "down"), so a test can look at the portal before the webhook; the events so far."""
    await served.control(http, "delivery", {"drop": True})
    return len(await emitted(served, http))


async def deliver_since(served: Served, http: httpx.AsyncClient, start: int) -> list[str]:
    """Deliver the held-back events, signed as Stripe signs them; their types."""
    await served.control(http, "delivery", {"drop": False})
    events = (await emitted(served, http))[start:]
    for evt in events:
        response = await deliver(http, evt, served.settings.webhook_secret)
        assert response.status_code == 200, response.text
    return [evt["type"] for evt in events]


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

        start = await held_back(served, http)
        response = await post(http, f"/donor/recurring/{plan.gift_id}/amount", {"amount": "25"})
        assert response.status_code == 303

        subscription = await served.stripe().v1.subscriptions.retrieve_async(plan.subscription_id)
        item = subscription["items"]["data"][0]
        assert item["price"]["unit_amount"] == 2_500
        assert subscription.metadata["amount_minor"] == "2500"
        [change] = await changes(database, plan.gift_id)
        assert (change.kind, change.amount_minor) == (ChangeKind.AMOUNT, 2_500)
        assert change.sent_at is not None and change.failed_at is None
        # Until Stripe's webhook arrives our books keep the old amount; the portal says what is
        # on its way, as pending.
        page = await http.get("/donor")
        assert (await gift_row(database, plan.gift_id)).amount_minor == 1_000
        assert 'data-state="amount-pending"' in page.text
        assert "Changing to €25.00 per month" in page.text
        assert "customer.subscription.updated" in await deliver_since(served, http, start)
        gift = await wait_for_gift(
            database, lambda g: g is not None and g.amount_minor == 2_500, gift_id=plan.gift_id
        )
        assert gift is not None and gift.amount_minor == 2_500
        page = await http.get("/donor")
        assert 'data-state="amount-pending"' not in page.text
        assert "€25.00" in page.text

    async def test_an_amount_below_the_campaigns_minimum_is_refused_next_to_the_field(
        self, served: Served, database: Database, http: httpx.AsyncClient
    ) -> None:
        plan = await monthly_gift(served, database, http, email="ada@example.org")
        await sign_in(http, database, "ada@example.org")
        for typed in ("0.10", "abc", "10.001"):
            response = await post(http, f"/donor/recurring/{plan.gift_id}/amount", {"amount": typed})
            assert response.status_code == 422
            assert f'id="amount-error-{plan.gift_id}"' in response.text
            assert f'value="{typed}"' in response.text  # what the donor typed stays
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

        start = await held_back(served, http)
        response = await http.post(
            f"/donor/recurring/{plan.gift_id}/cancel", data={"csrf_token": csrf_in(confirm.text)}
        )
        assert response.status_code == 303
        subscription = await served.stripe().v1.subscriptions.retrieve_async(plan.subscription_id)
        assert subscription.status == "canceled"
        # Until customer.subscription.deleted arrives the portal says "Cancelling...", honestly.
        page = await http.get("/donor")
        assert (await gift_row(database, plan.gift_id)).status is RecurringStatus.ACTIVE
        assert 'data-state="cancelling"' in page.text
        assert "Cancel gift" not in page.text
        assert "customer.subscription.deleted" in await deliver_since(served, http, start)
        gift = await wait_for_gift(
            database, lambda g: g is not None and g.status is RecurringStatus.CANCELED, gift_id=plan.gift_id
        )
        assert gift is not None and gift.status is RecurringStatus.CANCELED
        page = await http.get("/donor")
        assert 'data-state="canceled"' in page.text and 'data-state="cancelling"' not in page.text
        assert "Cancel gift" not in page.text


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
