"""`frequency` on the checkout API and the donate form: a monthly or yearly gift checks out as a
Stripe subscription (inline recurring price, destination on subscription_data), once as before."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from campaigns.donations.models import Donation
from campaigns.nonprofits.models import Nonprofit
from service.db import Database
from tests.campaigns.giving.helpers import donate_form, live
from tests.campaigns.giving.stripe_double import StripeDouble


async def donations(database: Database) -> list[Donation]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(Donation))).all())


async def checkout(client: httpx.AsyncClient, slug: str, **body: object) -> httpx.Response:
    return await client.post(
        f"/api/v1/public/campaigns/{slug}/checkout", json={"amount_minor": 1000, "currency": "eur", **body}
    )


class TestSubscriptionCheckout:
    async def test_monthly_checks_out_as_a_subscription(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await checkout(client, campaign["slug"], frequency="monthly", email="ada@example.org")

        assert response.status_code == 201, response.text
        [donation] = await donations(database)
        assert (donation.recurring_interval, donation.installment) == ("month", 1)
        [call] = stripe_double.checkout_calls()
        assert call.idempotency_key == f"donation:{donation.id}:checkout"
        assert call.params["mode"] == "subscription"
        assert call.params["line_items[0][price_data][unit_amount]"] == "1000"
        assert call.params["line_items[0][price_data][recurring][interval]"] == "month"
        assert call.params["line_items[0][price_data][product_data][name]"].startswith("Monthly gift to ")
        assert call.params["subscription_data[metadata][donation_id]"] == str(donation.id)
        assert call.params["customer_email"] == "ada@example.org"
        assert "submit_type" not in call.params
        assert not any(key.startswith("payment_intent_data") for key in call.params)
        assert not any("transfer_data" in key for key in call.params)

    async def test_the_destination_goes_on_the_subscription(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        async with database.transaction() as session:
            await session.execute(
                sa.update(Nonprofit)
                .where(Nonprofit.id == uuid.UUID(campaign["nonprofit_id"]))
                .values(stripe_account_id="acct_1Harbor", charges_enabled=True)
            )

        await checkout(client, campaign["slug"], frequency="yearly")

        [call] = stripe_double.checkout_calls()
        assert call.params["line_items[0][price_data][recurring][interval]"] == "year"
        assert call.params["subscription_data[transfer_data][destination]"] == "acct_1Harbor"
        [donation] = await donations(database)
        assert donation.recurring_interval == "year"

    async def test_the_fee_cover_is_part_of_the_one_recurring_price(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        await checkout(client, campaign["slug"], frequency="monthly", cover_fees=True)

        [call] = stripe_double.checkout_calls()
        [donation] = await donations(database)
        assert donation.fee_cover_minor > 0
        assert call.params["line_items[0][price_data][unit_amount]"] == str(donation.charged_minor)
        assert "line_items[1][price_data][unit_amount]" not in call.params

    async def test_once_is_the_default_and_stays_a_payment(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        await checkout(client, campaign["slug"])

        [call] = stripe_double.checkout_calls()
        assert call.params["mode"] == "payment"
        [donation] = await donations(database)
        assert (donation.recurring_interval, donation.installment) == (None, None)

    async def test_an_unknown_frequency_is_refused_without_calling_stripe(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await checkout(client, campaign["slug"], frequency="weekly")

        assert response.status_code == 422, response.text
        assert response.json()["error"] == "validation_failed"
        assert stripe_double.calls == []
        assert await donations(database) == []


class TestDonateForm:
    async def test_the_form_offers_once_monthly_and_yearly(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        page = (await client.get(f"/c/{campaign['slug']}")).text

        assert "<legend>How often</legend>" in page
        for value in ("once", "monthly", "yearly"):
            assert f'name="frequency" value="{value}"' in page
        assert 'value="once" checked' in page
        assert 'value="monthly" checked' not in page and 'value="yearly" checked' not in page

    async def test_a_monthly_form_post_starts_a_subscription(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await donate_form(client, campaign["slug"], amount="25.00", frequency="monthly")

        assert response.status_code == 303, response.text
        [donation] = await donations(database)
        assert donation.recurring_interval == "month"
        [call] = stripe_double.checkout_calls()
        assert call.params["mode"] == "subscription"

    async def test_a_bad_frequency_is_shown_next_to_the_field(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await donate_form(client, campaign["slug"], amount="25.00", frequency="daily")

        assert response.status_code == 422
        assert 'id="frequency-error"' in response.text
        assert await donations(database) == []
