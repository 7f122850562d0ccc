"""Checkout and Connect through the real SDK against the local Stripe sandbox, over HTTP."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from campaigns.campaign.models import Campaign
from campaigns.donations.models import Donation
from campaigns.giving.checkout import PendingCheckout, open_checkout_session
from campaigns.nonprofits.models import Nonprofit
from service.app import create_app
from service.db import Database
from tests.campaigns.dashboard.helpers import log_in, submit
from tests.campaigns.giving.helpers import live
from tests.campaigns.giving.sandboxed import Served, served, wait_for_donation

__all__ = ["served"]


@dataclass(frozen=True)
class AppReturnUrls:
    """checkout.ReturnUrls from an app's route names, as campaigns.giving.pages builds them."""

    app: Starlette
    base: str

    def campaign(self, slug: str) -> str:
        return self.base + str(self.app.url_path_for("giving:campaign", slug=slug))

    def thanks(self, slug: str) -> str:
        return self.base + str(self.app.url_path_for("giving:thanks", slug=slug))


@pytest.fixture
async def http(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        yield client


async def connect_account(
    served: Served, http: httpx.AsyncClient, database: Database, nonprofit_id: str
) -> str:
    """An onboarded Express account on the nonprofit, its flags set by the account.updated webhook."""
    account = await served.stripe().v1.accounts.create_async({"type": "express", "country": "IE"})
    async with database.transaction() as session:
        await session.execute(
            sa.update(Nonprofit)
            .where(Nonprofit.id == uuid.UUID(nonprofit_id))
            .values(stripe_account_id=account.id)
        )
    await served.control(http, f"accounts/{account.id}/onboard")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        async with database.transaction() as session:
            enabled = await session.scalar(
                sa.select(Nonprofit.charges_enabled).where(Nonprofit.stripe_account_id == account.id)
            )
        if enabled:
            return account.id
        await asyncio.sleep(0.2)
    raise AssertionError("account.updated never enabled charges")


class TestCheckoutInTheSandbox:
    async def test_session_params_reach_stripe_and_the_payment_confirms_the_donation(
        self, served: Served, http: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(http, database)
        account_id = await connect_account(served, http, database, campaign["nonprofit_id"])

        response = await http.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": 2500, "currency": "eur", "email": "donor@example.org", "cover_fees": True},
        )

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["checkout_url"].startswith(served.stripe_base)
        async with database.transaction() as session:
            donation = await session.get(Donation, uuid.UUID(body["donation_id"]))
        assert donation is not None and donation.stripe_checkout_session_id is not None
        client = served.stripe()
        checkout = await client.v1.checkout.sessions.retrieve_async(donation.stripe_checkout_session_id)
        assert checkout.submit_type == "donate"
        assert checkout.mode == "payment"
        assert checkout.metadata is not None and checkout.metadata["donation_id"] == body["donation_id"]
        assert checkout.amount_total == 2500 + donation.fee_cover_minor
        assert checkout.customer_email == "donor@example.org"

        await served.control(http, f"sessions/{checkout.id}/pay")
        paid = await client.v1.checkout.sessions.retrieve_async(checkout.id)
        assert isinstance(paid.payment_intent, str)
        intent = await client.v1.payment_intents.retrieve_async(paid.payment_intent)
        assert intent.metadata["donation_id"] == body["donation_id"]
        assert intent.transfer_data is not None and intent.transfer_data.destination == account_id
        confirmed = await wait_for_donation(database, donation.id, status="confirmed")
        assert confirmed.status.value == "confirmed"

    async def test_retrying_the_same_donation_gets_the_same_session(
        self, served: Served, http: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(http, database)
        body = (
            await http.post(
                f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
                json={"amount_minor": 1500, "currency": "eur"},
            )
        ).json()
        async with database.transaction() as session:
            donation = await session.get(Donation, uuid.UUID(body["donation_id"]))
            assert donation is not None
            row = await session.get(Campaign, donation.campaign_id)
            nonprofit = await session.get(Nonprofit, donation.nonprofit_id)
        assert row is not None and nonprofit is not None
        pending = PendingCheckout(donation=donation, campaign=row, nonprofit=nonprofit)

        # The same return URLs the served app sent: the sandbox refuses a retry whose
        # parameters differ from the first call's under the same idempotency key.
        urls = AppReturnUrls(create_app(served.settings), served.settings.public_base_url)
        retried = await open_checkout_session(
            served.stripe(), pending, urls=urls, secret_key=served.settings.secret_key
        )

        assert retried.id == donation.stripe_checkout_session_id
        assert retried.url == body["checkout_url"]


class TestConnectOnboarding:
    async def test_owner_connects_an_express_account_once_and_sees_the_flags(
        self, served: Served, http: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(http, database)
        await log_in(http, campaign["_org"].email)

        first = await submit(http, "/dashboard/stripe/connect", page="/dashboard")
        second = await submit(http, "/dashboard/stripe/connect", page="/dashboard")

        assert first.status_code == 303 and first.headers["location"].startswith(served.stripe_base)
        assert second.status_code == 303
        async with database.transaction() as session:
            nonprofit = await session.get(Nonprofit, uuid.UUID(campaign["nonprofit_id"]))
        assert nonprofit is not None and nonprofit.stripe_account_id is not None
        assert nonprofit.charges_enabled is False
        account = await served.stripe().v1.accounts.retrieve_async(nonprofit.stripe_account_id)
        assert account.type == "express"

        await served.control(http, f"accounts/{nonprofit.stripe_account_id}/onboard")
        back = await http.get("/dashboard/stripe/return")
        home = await http.get("/dashboard")

        assert back.status_code == 303
        async with database.transaction() as session:
            refreshed = await session.get(Nonprofit, nonprofit.id)
        assert refreshed is not None and refreshed.charges_enabled and refreshed.payouts_enabled
        assert '<dd id="charges-enabled">enabled</dd>' in home.text
        assert "https://connect.stripe.com" in home.headers["content-security-policy"]
