"""A gift above the largest charge Stripe takes in its currency is refused before Stripe."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from service.db import Database
from service.money import maximum_charge_minor
from tests.campaigns.giving.helpers import donate_form, live
from tests.campaigns.giving.stripe_double import StripeDouble

STRIPE_MAX_EUR = 99_999_999


def amount_error(page: str) -> str:
    match = re.search(r'<p class="field-error" id="amount-error">([^<]*)</p>', page)
    assert match is not None, "no message next to the amount field"
    return html.unescape(match.group(1))


class TestMaximumChargeTable:
    @pytest.mark.parametrize(
        ("code", "largest"), [("eur", 99_999_999), ("jpy", 99_999_999), ("idr", 999_999_999_999)]
    )
    def test_stripe_maximum_per_currency(self, code: str, largest: int) -> None:
        assert maximum_charge_minor(code) == largest


class TestAboveStripeMaximum:
    async def test_api_refuses_a_gift_above_the_maximum(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await client.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": STRIPE_MAX_EUR + 1, "currency": "eur"},
        )

        assert response.status_code == 422, response.text
        assert response.json()["error"] == "validation_failed"
        assert "€999,999.99" in response.json()["fields"]["amount_minor"]
        assert stripe_double.calls == []

    async def test_the_fee_cover_counts_towards_the_maximum(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        url = f"/api/v1/public/campaigns/{campaign['slug']}/checkout"

        covered = await client.post(
            url, json={"amount_minor": STRIPE_MAX_EUR, "currency": "eur", "cover_fees": True}
        )
        plain = await client.post(url, json={"amount_minor": STRIPE_MAX_EUR, "currency": "eur"})

        assert covered.status_code == 422, covered.text
        assert "fee cover" in covered.json()["fields"]["amount_minor"]
        assert plain.status_code == 201, plain.text
        assert len(stripe_double.checkout_calls()) == 1

    async def test_page_shows_the_message_next_to_the_amount(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await donate_form(client, campaign["slug"], custom_amount="1000000.00")

        assert response.status_code == 422
        assert "€999,999.99" in amount_error(response.text)
        assert stripe_double.calls == []
