"""A monthly gift made through a fundraiser's page counts for the page and its team at every
installment, and its donor stays one donor (#15 review, B2). Through the real SDK and the local
Stripe sandbox over HTTP, as tests/campaigns/recurring/test_sandbox_recurring.py drives it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations.models import Donation, DonationStatus
from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser, FundraiserDonation, FundraiserStatus
from campaigns.fundraising.starting import NewFundraiser, TeamChoice
from campaigns.matching.models import Match
from campaigns.recurring.models import RecurringGift
from service.auth.models import AdminRole
from service.db import Database, utcnow
from tests.builders import insert_admin
from tests.campaigns.fundraising.helpers import owner_actor, p2p_campaign
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

        first_id, gift = await _monthly_gift(served, http, database, slug, page_slug)
        for n in (2, 3):
            await _renew(served, http, database, first_id, gift, n)
        _, donations = await gift_and_installments(database, first_id)
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


async def _monthly_gift(
    served: Served, http: httpx.AsyncClient, database: Database, slug: str, page_slug: str
) -> tuple[uuid.UUID, RecurringGift]:
    """A monthly gift of 10.00 through the page, its first installment paid."""
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
    gift, _ = await eventually(lambda: gift_and_installments(database, first_id), _paid(1))
    assert gift is not None
    return first_id, gift


async def _renew(
    served: Served,
    http: httpx.AsyncClient,
    database: Database,
    first_id: uuid.UUID,
    gift: RecurringGift,
    n: int,
) -> Donation:
    """Stripe renews the subscription; the paid installment number `n`."""
    await served.control(http, f"subscriptions/{gift.stripe_subscription_id}/renew", {"outcome": "succeed"})
    _, donations = await eventually(lambda: gift_and_installments(database, first_id), _paid(n))
    [installment] = [d for d in donations if d.installment == n]
    return installment


async def _page(database: Database, slug: str) -> Fundraiser:
    async with database.transaction() as session:
        page = await session.scalar(sa.select(Fundraiser).where(Fundraiser.slug == slug))
    assert page is not None
    return page


async def _attributed(database: Database, donation_id: uuid.UUID) -> bool:
    async with database.transaction() as session:
        return await session.get(FundraiserDonation, donation_id) is not None


class TestAPageNotLive:
    async def test_installments_count_while_an_edit_awaits_approval_and_not_once_hidden(
        self, served: Served, http: httpx.AsyncClient, database: Database
    ) -> None:
        """#15 second review, Y2: a page approved before and held again only for an edit keeps
        its monthly donors' installments; a hidden page gets none."""
        campaign = await p2p_campaign(http, database)
        slug = campaign["slug"]
        page_slug, _ = await live_page_with_team(database, slug)
        first_id, gift = await _monthly_gift(served, http, database, slug, page_slug)
        page = await _page(database, page_slug)
        async with database.transaction() as session:
            held = await session.get(Fundraiser, page.id)
            assert held is not None
            held.status, held.approved_at = FundraiserStatus.PENDING_APPROVAL, utcnow()
        during_edit = await _renew(served, http, database, first_id, gift, 2)

        async with database.transaction() as session:
            await fundraising.hide(session, actor=owner_actor(campaign), fundraiser_id=page.id, note="test")
        while_hidden = await _renew(served, http, database, first_id, gift, 3)

        assert await _attributed(database, during_edit.id)
        assert not await _attributed(database, while_hidden.id)

    async def test_an_installment_after_the_page_ended_brings_no_referred_donor_to_engagement_tiers(
        self, served: Served, http: httpx.AsyncClient, database: Database
    ) -> None:
        """#15 second review, Y1b: the installment copies the first gift's share link, but the
        ended page's link refers nothing once it settles: the tiers stay at their first step."""
        campaign = await p2p_campaign(http, database)
        slug = campaign["slug"]
        page_slug, _ = await live_page_with_team(database, slug)
        first_id, gift = await _monthly_gift(served, http, database, slug, page_slug)
        page = await _page(database, page_slug)
        async with database.transaction() as session:
            await fundraising.end(session, actor=owner_actor(campaign), fundraiser_id=page.id, note="test")
        # Starts after the first gift, so only the installment could bring a referred donor.
        finance = await insert_admin(database, role=AdminRole.FINANCE)
        created = await http.post(
            "/api/v1/admin/matching-programs",
            json={
                "name": "Bring the crowd",
                "currency": "eur",
                "budget_minor": 100_000,
                "starts_at": utcnow().isoformat(),
                "ends_at": (utcnow() + timedelta(days=30)).isoformat(),
                "hold_days": 7,
                "recurring_rule": "each_installment",
                "policy": {
                    "policy": "engagement_tiers",
                    "tiers": [
                        {"min_referred_donors": 0, "ratio_bps": 100},
                        {"min_referred_donors": 1, "ratio_bps": 10_000},
                    ],
                },
            },
            headers=finance.headers,
        )
        assert created.status_code == 201, created.text

        installment = await _renew(served, http, database, first_id, gift, 2)

        async with database.transaction() as session:
            match = await session.scalar(sa.select(Match).where(Match.donation_id == installment.id))
            settled = await session.get(Donation, installment.id)
        assert settled is not None and settled.referral_link_id is None
        assert match is not None and match.amount_minor == 10  # 1% of 10.00: no referred donor


def _paid(n: int) -> Callable[[tuple[RecurringGift | None, list[Donation]]], bool]:
    return lambda found: len([d for d in found[1] if d.status is DonationStatus.CONFIRMED]) >= n


async def _get(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await http.get(url)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found
