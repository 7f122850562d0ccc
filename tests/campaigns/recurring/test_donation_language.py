"""donations.language: the donor's language for receipts and email, set at checkout from the
API's or form's choice, else negotiated from Accept-Language (service.i18n)."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from campaigns.donations.models import Donation
from service.db import Database
from service.i18n import DEFAULT_LANGUAGE
from tests.campaigns.giving.helpers import donate_form, live
from tests.campaigns.giving.stripe_double import StripeDouble


async def languages(database: Database) -> list[str | None]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(Donation.language))).all())


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

    async def test_a_browser_in_neither_language_gets_the_default(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        response = await client.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": 2500, "currency": "eur"},
            headers={"Accept-Language": "de-DE"},
        )

        assert response.status_code == 201, response.text
        assert await languages(database) == [DEFAULT_LANGUAGE]
