"""donations.language: the donor's language for receipts and email, set at checkout from the
API's or form's choice, else negotiated from Accept-Language; unknown stays unknown."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations.models import Donation
from campaigns.giving.pages import negotiate_language
from service.db import Database
from tests.campaigns.giving.helpers import donate_form, live
from tests.campaigns.giving.stripe_double import StripeDouble


async def languages(database: Database) -> list[str | None]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(Donation.language))).all())


class TestNegotiation:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("nl-NL,nl;q=0.9,en;q=0.8", "nl"),
            ("en-GB,en;q=0.9,nl;q=0.8", "en"),
            ("de-DE,de;q=0.9,en;q=0.5,nl;q=0.7", "nl"),
            ("fr, en;q=0", None),
            ("de", None),
            ("", None),
            (None, None),
            ("nl;q=abc, en", "en"),
        ],
    )
    def test_the_preferred_known_language_wins(self, header: str | None, expected: str | None) -> None:
        assert negotiate_language(header) == expected


class TestCheckoutRecordsTheLanguage:
    async def test_the_api_takes_the_language_given(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await client.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": 2500, "currency": "eur", "language": "nl"},
            headers={"Accept-Language": "en"},
        )

        assert response.status_code == 201, response.text
        assert await languages(database) == ["nl"]

    async def test_without_a_choice_the_browser_language_is_used(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await client.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": 2500, "currency": "eur"},
            headers={"Accept-Language": "nl-BE,nl;q=0.9"},
        )

        assert response.status_code == 201, response.text
        assert await languages(database) == ["nl"]

    async def test_an_unsupported_language_is_refused(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await client.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": 2500, "currency": "eur", "language": "de"},
        )

        assert response.status_code == 422, response.text
        assert await languages(database) == []

    async def test_the_form_records_the_browser_language(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        client.headers["Accept-Language"] = "en-US,en;q=0.9"

        response = await donate_form(client, campaign["slug"], amount="25.00")

        assert response.status_code == 303, response.text
        assert await languages(database) == ["en"]

    async def test_a_browser_in_neither_language_leaves_it_unknown(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await client.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": 2500, "currency": "eur"},
            headers={"Accept-Language": "de-DE"},
        )

        assert response.status_code == 201, response.text
        assert await languages(database) == [None]
