"""A monthly gift made through a fundraiser's page counts for the page and its team at every
installment, and its donor stays one donor (#15 review, B2). Through the real SDK and the local
Stripe sandbox over HTTP, as tests/campaigns/recurring/test_sandbox_recurring.py drives it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations.models import Donation, DonationStatus
from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import FundraiserDonation, FundraiserStatus
from campaigns.fundraising.starting import NewFundraiser, TeamChoice
from campaigns.recurring.models import RecurringGift
from service.db import Database
from tests.campaigns.fundraising.helpers import p2p_campaign
from tests.campaigns.giving.sandboxed import Served, served
from tests.campaigns.recurring.test_sandbox_recurring import eventually, gift_and_installments

__all__ = ["served"]


@pytest.fixture
async def http(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
        yield client


async def live_page_with_team(database: Database, slug: str) -> tuple[str, str]:
    """A live page in a new team (the page's confirmation is tests/campaigns/fundraising's)."""
    async with database.transaction() as session:
        page = await fundraising.start_fundraiser(
            session,
            campaign_slug=slug,
            data=NewFundraiser(
                name="Rita Runner",
                email="rita@example.org",
                title="I run every month for coats",
                team=TeamChoice(create_name="Monthly Runners"),
            ),
        )
        page.status = FundraiserStatus.LIVE
        return page.slug, "monthly-runners"


class TestMonthlyGiftThroughAPage:
    async def test_every_installment_counts_for_the_page_and_team_and_the_donor_once(
        self, served: Served, http: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await p2p_campaign(http, database)
        slug = campaign["slug"]
        page_slug, team_slug = await live_page_with_team(database, slug)
        response = await http.post(
            f"/api/v1/public/campaigns/{slug}/checkout",
            json={
                "amount_minor": 1000,
                "currency": "eur",
                "email": "ada@example.org",
                "frequency": "monthly",
                "fundraiser": page_slug,
            },
        )
        assert response.status_code == 201, response.text
        first_id = uuid.UUID(response.json()["donation_id"])
        async with database.transaction() as session:
            first = await session.get(Donation, first_id)
        assert first is not None and first.stripe_checkout_session_id is not None

        await served.control(http, f"sessions/{first.stripe_checkout_session_id}/pay")
        probe = lambda: gift_and_installments(database, first_id)  # noqa: E731
        gift, _ = await eventually(probe, _paid(1))
        assert gift is not None
        for n in (2, 3):
            await served.control(
                http, f"subscriptions/{gift.stripe_subscription_id}/renew", {"outcome": "succeed"}
            )
            _, donations = await eventually(probe, _paid(n))
        assert [d.status for d in donations] == [DonationStatus.CONFIRMED] * 3

        async with database.transaction() as session:
            attributed = (
                await session.scalars(
                    sa.select(FundraiserDonation.donation_id).where(
                        FundraiserDonation.donation_id.in_([d.id for d in donations])
                    )
                )
            ).all()
        page = await _get(http, f"/api/v1/public/campaigns/{slug}/fundraisers/{page_slug}")
        team = await _get(http, f"/api/v1/public/campaigns/{slug}/teams/{team_slug}")
        assert set(attributed) == {d.id for d in donations}
        assert (page["donors"], page["raised"]["amount_minor"]) == (1, 3 * 1000)
        assert (team["donors"], team["raised"]["amount_minor"]) == (1, 3 * 1000)


def _paid(n: int) -> Callable[[tuple[RecurringGift | None, list[Donation]]], bool]:
    return lambda found: len([d for d in found[1] if d.status is DonationStatus.CONFIRMED]) >= n


async def _get(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await http.get(url)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found
