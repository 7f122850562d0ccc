"""Donors see what their gift unlocks before paying, and the quote is held while they pay."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from campaigns.matching import rounds
from campaigns.matching.models import MatchQuote, QuoteStatus
from service.app import create_app
from service.db import Database, utcnow
from service.settings import Settings
from service.stripe_gateway import create_client
from tests.campaigns.giving.stripe_double import StripeDouble
from tests.campaigns.matching.helpers import World, make_program, make_world, only_match, program_row
from tests.webhooks import stripe_events
from tests.webhooks.builders import deliver, get_campaign, process_all


@pytest.fixture
def stripe_double() -> StripeDouble:
    return StripeDouble()


@pytest.fixture
async def app(
    settings: Settings, database: Database, stripe_double: StripeDouble
) -> AsyncIterator[Starlette]:
    """The app with a recording Stripe double under the real SDK (as in the giving tests)."""
    application = create_app(
        settings, database=database, stripe_client=create_client(settings, http_client=stripe_double)
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)


async def slug_of(world: World) -> str:
    return (await get_campaign(world.database, world.campaign.id)).slug


async def start_checkout(world: World, amount_minor: int, email: str) -> httpx.Response:
    slug = await slug_of(world)
    return await world.client.post(
        f"/api/v1/public/campaigns/{slug}/checkout",
        json={"amount_minor": amount_minor, "currency": "eur", "email": email},
    )


async def quote_of(database: Database, donation_id: str) -> MatchQuote:
    async with database.transaction() as session:
        found = await session.scalar(
            sa.select(MatchQuote).where(MatchQuote.donation_id == uuid.UUID(donation_id))
        )
    assert found is not None
    return found


def paid_session(donation_id: str, session_id: str, amount_minor: int, email: str) -> stripe_events.Payment:
    return stripe_events.Payment(
        donation_id=uuid.UUID(donation_id), session_id=session_id, amount_minor=amount_minor, currency="eur"
    )


class TestCampaignPage:
    async def test_the_page_shows_the_live_offer_with_examples(self, world: World) -> None:
        await make_program(world, name="Harbor Foundation match", per_donation_cap_minor=2_000)
        page = await world.client.get(f"/c/{await slug_of(world)}")

        assert page.status_code == 200
        text = page.text
        assert "Matched 1:1" in text and "Harbor Foundation match" in text
        assert "€25.00 becomes €45.00" in text  # capped at €20 per gift
        assert "€1,000.00 left in the pool" in text

    async def test_no_offer_without_a_program(self, world: World) -> None:
        page = await world.client.get(f"/c/{await slug_of(world)}")
        assert "match-offer" not in page.text


class TestQuoteAtCheckout:
    async def test_checkout_holds_the_quote_and_shows_it(
        self, world: World, stripe_double: StripeDouble
    ) -> None:
        program_id = await make_program(world, budget_minor=3_000)
        response = await start_checkout(world, 2_000, "q1@example.org")

        assert response.status_code == 201, response.text
        assert response.json()["match_quotes"] == [
            {"program_name": "Winter match", "currency": "eur", "amount_minor": 2_000}
        ]
        program = await program_row(world.database, program_id)
        assert (program.held_minor, program.available_minor) == (2_000, 1_000)
        sent = stripe_double.checkout_calls()[-1].params
        assert sent["custom_text[submit][message]"] == "Your gift unlocks a match: €20.00 from Winter match."

    async def test_the_promise_is_kept_when_the_pool_runs_low_meanwhile(self, world: World) -> None:
        program_id = await make_program(world, budget_minor=3_000)
        first = (await start_checkout(world, 2_000, "early@example.org")).json()
        second = (await start_checkout(world, 2_000, "late@example.org")).json()
        assert second["match_quotes"] == [
            {"program_name": "Winter match", "currency": "eur", "amount_minor": 1_000}
        ]

        # The second donor pays first; the first donor's €20 is still theirs.
        for body, amount, email in ((second, 2_000, "late@example.org"), (first, 2_000, "early@example.org")):
            quote = await quote_of(world.database, body["donation_id"])
            session_id = await _session_id(world.database, body["donation_id"])
            payment = paid_session(body["donation_id"], session_id, amount, email)
            evt = stripe_events.event("checkout.session.completed", payment.checkout_session(email=email))
            await deliver(world.client, evt, world.settings.webhook_secret)
            await process_all(world.database)
            assert (await only_match(world.database, payment)).amount_minor == quote.amount_minor

        program = await program_row(world.database, program_id)
        assert (program.held_minor, program.reserved_minor, program.available_minor) == (0, 3_000, 0)

    async def test_an_expired_checkout_gives_the_quote_back(self, world: World) -> None:
        program_id = await make_program(world, budget_minor=3_000)
        body = (await start_checkout(world, 2_000, "gone@example.org")).json()
        session_id = await _session_id(world.database, body["donation_id"])
        payment = paid_session(body["donation_id"], session_id, 2_000, "gone@example.org")
        expired = payment.checkout_session(payment_status="unpaid", status="expired")
        await deliver(
            world.client,
            stripe_events.event("checkout.session.expired", expired),
            world.settings.webhook_secret,
        )
        await process_all(world.database)

        assert (await quote_of(world.database, body["donation_id"])).status is QuoteStatus.RELEASED
        assert (await program_row(world.database, program_id)).available_minor == 3_000

    async def test_a_quote_whose_expiry_never_arrived_is_released_by_the_chores(self, world: World) -> None:
        program_id = await make_program(world, budget_minor=3_000)
        body = (await start_checkout(world, 2_000, "silent@example.org")).json()
        async with world.database.transaction() as session:
            released = await rounds.release_expired_quotes(session, now=utcnow() + timedelta(hours=3))

        assert released == 1
        assert (await quote_of(world.database, body["donation_id"])).status is QuoteStatus.RELEASED
        assert (await program_row(world.database, program_id)).held_minor == 0


async def _session_id(database: Database, donation_id: str) -> str:
    from campaigns.donations.models import Donation

    async with database.transaction() as session:
        found = await session.get(Donation, uuid.UUID(donation_id))
    assert found is not None and found.stripe_checkout_session_id is not None
    return found.stripe_checkout_session_id
