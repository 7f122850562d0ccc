"""Starting a donation: validation before any Stripe call, the Checkout Session's parameters,
rate limits against card testing, and Stripe failures that never become a 500."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.donations.models import Donation, DonationStatus
from campaigns.nonprofits.models import Nonprofit
from service.db import Database
from tests.campaigns.giving.helpers import donate_form, live
from tests.campaigns.giving.stripe_double import StripeDouble


def checkout_url(slug: str) -> str:
    return f"/api/v1/public/campaigns/{slug}/checkout"


async def donations(database: Database) -> list[Donation]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(Donation))).all())


async def checkout(client: httpx.AsyncClient, slug: str, **body: Any) -> httpx.Response:
    return await client.post(checkout_url(slug), json={"amount_minor": 2500, "currency": "eur", **body})


class TestRejectedInput:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"amount_minor": 400}, "amount_minor"),  # below the campaign minimum of 5.00
            ({"amount_minor": 30}, "amount_minor"),  # below Stripe's minimum charge
            ({"amount_minor": 100_001}, "amount_minor"),  # above the campaign maximum
            ({"currency": "usd"}, "currency"),
            ({"amount_minor": 0}, "amount_minor"),
            ({"amount_minor": "25.00"}, "amount_minor"),
            ({"tip_minor": 500}, "tip_minor"),  # extra fields are refused, not ignored
        ],
    )
    async def test_invalid_checkout_is_refused_without_calling_stripe(
        self,
        client: httpx.AsyncClient,
        database: Database,
        stripe_double: StripeDouble,
        body: dict[str, Any],
        field: str,
    ) -> None:
        campaign = await live(client, database, min_amount_minor=500, max_amount_minor=100_000)

        response = await checkout(client, campaign["slug"], **body)

        assert response.status_code == 422, response.text
        assert response.json()["error"] == "validation_failed"
        assert field in response.json()["fields"]
        assert stripe_double.calls == []
        assert await donations(database) == []

    async def test_amount_off_the_currency_step_is_refused(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        # Three-decimal currencies charge in steps of ten minor units (Stripe's rule).
        campaign = await live(client, database, currency="kwd", suggested_amounts_minor=[5000])

        response = await checkout(client, campaign["slug"], amount_minor=5005, currency="kwd")

        assert response.status_code == 422
        assert "multiples of 10" in response.json()["fields"]["amount_minor"]
        assert stripe_double.calls == []

    @pytest.mark.parametrize("status", [CampaignStatus.PAUSED, CampaignStatus.ENDED])
    async def test_closed_campaign_refuses_with_the_reason(
        self,
        client: httpx.AsyncClient,
        database: Database,
        stripe_double: StripeDouble,
        status: CampaignStatus,
    ) -> None:
        campaign = await live(client, database)
        async with database.transaction() as session:
            await session.execute(
                sa.update(Campaign).where(Campaign.slug == campaign["slug"]).values(status=status)
            )

        response = await checkout(client, campaign["slug"])

        assert response.status_code == 409
        assert response.json()["error"] == "donations_closed"
        assert status.value in response.json()["detail"]
        assert stripe_double.calls == []
        assert await donations(database) == []

    async def test_unknown_campaign_is_not_found(
        self, client: httpx.AsyncClient, stripe_double: StripeDouble
    ) -> None:
        response = await checkout(client, "no-such-campaign")

        assert response.status_code == 404
        assert stripe_double.calls == []

    async def test_form_amount_with_too_many_decimals_is_shown_next_to_the_field(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await donate_form(client, campaign["slug"], custom_amount="25.505")

        assert response.status_code == 422
        assert (
            '<p class="field-error" id="amount-error">EUR has 2 decimal places; 25.505 has more.</p>'
            in response.text
        )
        assert 'value="25.505"' in response.text
        assert stripe_double.calls == []

    async def test_form_without_a_valid_token_is_refused(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await client.post(
            f"/c/{campaign['slug']}/donate", data={"form_token": "forged", "currency": "eur", "amount": "25"}
        )

        assert response.status_code == 403
        assert "expired" in response.text
        assert stripe_double.calls == []
        assert await donations(database) == []


class TestCheckoutSession:
    async def test_json_checkout_creates_a_pending_donation_and_a_session(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await checkout(client, campaign["slug"], email="Donor@Example.org", message="Stay warm")

        assert response.status_code == 201, response.text
        body = response.json()
        [donation] = await donations(database)
        assert str(donation.id) == body["donation_id"]
        assert donation.status is DonationStatus.PENDING
        assert donation.donor_email == "donor@example.org"
        assert donation.message == "Stay warm"
        assert donation.stripe_checkout_session_id is not None
        assert (
            body["checkout_url"]
            == donation.checkout_url
            == stripe_double.sessions[donation.stripe_checkout_session_id]["url"]
        )
        assert donation.client_hash is not None and len(donation.client_hash) == 64

    async def test_session_parameters_follow_the_design(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        body = (await checkout(client, campaign["slug"], email="donor@example.org")).json()

        [call] = stripe_double.checkout_calls()
        donation_id = body["donation_id"]
        slug = campaign["slug"]
        assert call.idempotency_key == f"donation:{donation_id}:checkout"
        assert call.params["mode"] == "payment"
        assert call.params["submit_type"] == "donate"
        assert call.params["metadata[donation_id]"] == donation_id
        assert call.params["payment_intent_data[metadata][donation_id]"] == donation_id
        assert call.params["line_items[0][price_data][currency]"] == "eur"
        assert call.params["line_items[0][price_data][unit_amount]"] == "2500"
        assert "line_items[1][price_data][unit_amount]" not in call.params
        assert call.params["customer_email"] == "donor@example.org"
        assert call.params["cancel_url"] == f"http://testserver/c/{slug}"
        assert call.params["success_url"].startswith(
            f"http://testserver/c/{slug}/thanks?donation={donation_id}&t="
        )
        assert call.params["success_url"].endswith("&session_id={CHECKOUT_SESSION_ID}")
        assert not any(key.startswith("payment_method_types") for key in call.params)
        assert not any("transfer_data" in key for key in call.params)

    async def test_fee_cover_is_a_second_line_item(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        await checkout(client, campaign["slug"], amount_minor=1000, cover_fees=True)

        [call] = stripe_double.checkout_calls()
        assert call.params["line_items[1][price_data][unit_amount]"] == "56"
        [donation] = await donations(database)
        assert (donation.amount_minor, donation.fee_cover_minor) == (1000, 56)

    async def test_destination_charge_when_the_connected_account_takes_charges(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        async with database.transaction() as session:
            await session.execute(
                sa.update(Nonprofit)
                .where(Nonprofit.id == uuid.UUID(campaign["nonprofit_id"]))
                .values(stripe_account_id="acct_1Harbor", charges_enabled=True)
            )

        await checkout(client, campaign["slug"])

        [call] = stripe_double.checkout_calls()
        assert call.params["payment_intent_data[transfer_data][destination]"] == "acct_1Harbor"
        [donation] = await donations(database)
        assert donation.destination_account_id == "acct_1Harbor"

    async def test_no_destination_while_the_account_cannot_take_charges(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        async with database.transaction() as session:
            await session.execute(
                sa.update(Nonprofit)
                .where(Nonprofit.id == uuid.UUID(campaign["nonprofit_id"]))
                .values(stripe_account_id="acct_1Harbor", charges_enabled=False)
            )

        await checkout(client, campaign["slug"])

        [call] = stripe_double.checkout_calls()
        assert not any("transfer_data" in key for key in call.params)

    async def test_form_post_redirects_to_checkout_and_hashes_the_device(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await donate_form(client, campaign["slug"], amount="25.00", anonymous="on")

        assert response.status_code == 303, response.text
        [donation] = await donations(database)
        assert response.headers["location"] == donation.checkout_url
        assert donation.amount_minor == 2500 and donation.anonymous is True and donation.fee_cover_minor == 0
        device = client.cookies.get("gl_device")
        assert device and donation.device_hash and device not in donation.device_hash


class TestStripeFailure:
    @pytest.mark.parametrize(("fail_with", "status"), [(500, 503), (0, 503), (400, 502)])
    async def test_failure_marks_the_donation_failed_and_answers_clearly(
        self,
        client: httpx.AsyncClient,
        database: Database,
        stripe_double: StripeDouble,
        fail_with: int,
        status: int,
    ) -> None:
        campaign = await live(client, database)
        stripe_double.fail_with = fail_with

        response = await checkout(client, campaign["slug"])

        assert response.status_code == status
        assert response.json()["error"] == "payment_provider_unavailable"
        [donation] = await donations(database)
        assert donation.status is DonationStatus.FAILED
        assert donation.stripe_checkout_session_id is None

    async def test_form_shows_a_message_instead_of_an_error_page(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        stripe_double.fail_with = 0

        response = await donate_form(client, campaign["slug"], amount="25.00")

        assert response.status_code == 503
        assert "payment provider is not available" in response.text
        assert 'id="donate-form"' in response.text


class TestRateLimits:
    async def test_too_many_checkouts_from_one_client_get_429(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        for _ in range(10):
            assert (await checkout(client, campaign["slug"])).status_code == 201

        response = await checkout(client, campaign["slug"])

        assert response.status_code == 429
        assert response.json()["error"] == "rate_limited"
        assert int(response.headers["retry-after"]) > 0
        assert len(stripe_double.checkout_calls()) == 10

    async def test_too_many_checkouts_for_one_email_get_429(
        self, app: Any, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        for n in range(5):
            transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{n}", 1000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
                assert (
                    await checkout(other, campaign["slug"], email="card@tester.example")
                ).status_code == 201

        response = await checkout(client, campaign["slug"], email="Card@Tester.example")

        assert response.status_code == 429
        assert len(stripe_double.checkout_calls()) == 5

    async def test_the_form_says_to_slow_down(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        for _ in range(10):
            await donate_form(client, campaign["slug"], amount="25.00")

        response = await donate_form(client, campaign["slug"], amount="25.00")

        assert response.status_code == 429
        assert "Too many donation attempts" in response.text
        assert "retry-after" in response.headers
