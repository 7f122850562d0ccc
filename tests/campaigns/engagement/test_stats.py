"""GET /api/v1/campaigns/{id}/stats: money raised and matched, donors, and the funnel."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa
from starlette.applications import Starlette

from campaigns.donations.models import DonationStatus
from campaigns.engagement.models import EngagementCounter
from campaigns.matching.models import MatchStatus
from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.engagement.helpers import (
    BROWSER,
    flushed_stats,
    insert_donations,
    insert_link,
    insert_matches,
    recorder_of,
    stats,
    visitor,
)
from tests.campaigns.giving.helpers import donate_form, live


class TestMoney:
    async def test_raised_donors_and_donations_count_only_settled_gifts(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        await insert_donations(
            database,
            campaign["id"],
            {"amount_minor": 2500, "donor_email": "ana@example.org"},
            {"amount_minor": 4000, "donor_email": "ANA@example.org"},
            {"amount_minor": 3000, "status": DonationStatus.PARTIALLY_REFUNDED, "refunded_minor": 1000},
            {"amount_minor": 5000, "status": DonationStatus.REFUNDED, "refunded_minor": 5000},
            {"amount_minor": 7000, "status": DonationStatus.PENDING, "donor_email": "bo@example.org"},
            {"amount_minor": 9000, "status": DonationStatus.FAILED},
        )

        body = await stats(client, campaign["_org"], campaign["id"])

        assert body["campaign_id"] == campaign["id"]
        assert body["currency"] == "eur"
        assert body["raised_minor"] == 2500 + 4000 + 2000
        assert body["donors_count"] == 2
        assert body["funnel"]["donations"] == 3

    async def test_without_matches_every_status_is_zero(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)

        body = await stats(client, campaign["_org"], campaign["id"])

        assert body["matched"] == {status.value: 0 for status in MatchStatus}

    async def test_matched_sums_amounts_per_status(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        other = await live(client, database)
        await insert_matches(
            database,
            campaign["id"],
            (MatchStatus.PENDING, 100),
            (MatchStatus.PENDING, 50),
            (MatchStatus.HELD_FOR_REVIEW, 20),
            (MatchStatus.APPROVED, 300),
            (MatchStatus.PAID, 1_000),
            (MatchStatus.VOIDED, 70),
        )
        await insert_matches(database, other["id"], (MatchStatus.PAID, 99_999))

        body = await stats(client, campaign["_org"], campaign["id"])

        assert body["matched"] == {
            "pending": 150,
            "held_for_review": 20,
            "approved": 300,
            "paid": 1_000,
            "voided": 70,
        }


class TestFunnel:
    async def test_a_visitor_counts_once_per_day_even_when_the_page_is_cached(
        self, app: Starlette, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        slug = campaign["slug"]
        async with visitor(app) as ana:
            pages = [await ana.get(f"/c/{slug}") for _ in range(3)]
            await ana.get(f"/embed/{slug}")
        async with visitor(app, "198.51.100.4") as bo:
            await bo.get(f"/c/{slug}")
        await client.get(f"/c/{slug}", headers={"user-agent": BROWSER + " Firefox/140.0"})

        body = await flushed_stats(app, client, database, campaign)

        assert [page.status_code for page in pages] == [200, 200, 200]
        assert pages[2].content == pages[0].content  # served from the cache
        assert body["funnel"]["views"] == 3

    async def test_bots_and_unknown_campaigns_are_not_views(
        self, app: Starlette, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        await client.get(f"/c/{campaign['slug']}", headers={"user-agent": "facebookexternalhit/1.1"})
        await client.get(f"/c/{campaign['slug']}", headers={"user-agent": ""})
        async with visitor(app) as ana:
            missing = await ana.get("/c/no-such-campaign")

        body = await flushed_stats(app, client, database, campaign)

        assert missing.status_code == 404
        assert recorder_of(app).pending() == {}
        assert body["funnel"]["views"] == 0

    async def test_flushes_add_to_the_day_s_count(
        self, app: Starlette, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        for round_, address in enumerate(("198.51.100.1", "198.51.100.2", "198.51.100.3")):
            async with visitor(app, address) as someone:
                await someone.get(f"/c/{campaign['slug']}")
            body = await flushed_stats(app, client, database, campaign)
            assert body["funnel"]["views"] == round_ + 1

        async with database.transaction() as session:
            rows = (await session.scalars(sa.select(EngagementCounter))).all()
        assert [(str(row.campaign_id), row.metric.value, row.count) for row in rows] == [
            (campaign["id"], "view", 3)
        ]

    async def test_checkouts_started_from_the_form_and_the_api(
        self, app: Starlette, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        slug = campaign["slug"]
        url = f"/api/v1/public/campaigns/{slug}/checkout"
        started = await client.post(url, json={"amount_minor": 2500, "currency": "eur"})
        rejected = await client.post(url, json={"amount_minor": 1, "currency": "eur"})
        posted = await donate_form(client, slug, amount="25")

        body = await flushed_stats(app, client, database, campaign)

        assert (started.status_code, rejected.status_code, posted.status_code) == (201, 422, 303)
        assert body["funnel"]["checkouts_started"] == 2

    async def test_share_visits_by_channel_with_supporter_links_apart(
        self, app: Starlette, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        tiktok = await insert_link(database, campaign["id"], channel="tiktok")
        supporter = await insert_link(database, campaign["id"])
        for address in ("198.51.100.1", "198.51.100.2", "198.51.100.2"):
            async with visitor(app, address) as someone:
                await someone.get(f"/s/{tiktok.code}")
        async with visitor(app) as ana:
            await ana.get(f"/s/{supporter.code}")

        body = await stats(client, campaign["_org"], campaign["id"])

        assert body["funnel"]["share_visits"] == {
            "total": 3,
            "by_channel": {"tiktok": 2, "instagram": 0, "email": 0, "other": 0, "supporter": 1},
        }

    async def test_referred_donors_are_distinct_settled_donors_who_came_through_a_link(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        link = await insert_link(database, campaign["id"], channel="email")
        await insert_donations(
            database,
            campaign["id"],
            {"referral_link_id": link.id, "donor_email": "Cy@example.org"},
            {"referral_link_id": link.id, "donor_email": "cy@example.org"},
            {"referral_link_id": link.id},
            {"referral_link_id": link.id},
            {"donor_email": "dee@example.org"},
            {"referral_link_id": link.id, "donor_email": "eve@example.org", "status": DonationStatus.PENDING},
        )

        body = await stats(client, campaign["_org"], campaign["id"])

        assert body["funnel"]["referred_donors"] == 3
        assert body["funnel"]["donations"] == 5

    async def test_counts_not_flushed_yet_are_written_at_shutdown(
        self, settings: Settings, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        other_app = create_app(settings, database=database)
        async with other_app.router.lifespan_context(other_app):
            async with visitor(other_app) as ana:
                await ana.get(f"/c/{campaign['slug']}")
            assert recorder_of(other_app).pending() != {}

        body = await stats(client, campaign["_org"], campaign["id"])

        assert body["funnel"]["views"] == 1


class TestAccess:
    async def test_without_an_api_key_is_unauthenticated(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)

        response = await client.get(f"/api/v1/campaigns/{campaign['id']}/stats")

        assert response.status_code == 401
        assert response.json()["error"] == "unauthenticated"

    async def test_another_nonprofit_s_campaign_is_not_found(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        stranger = await builders.sign_up(client)

        response = await client.get(f"/api/v1/campaigns/{campaign['id']}/stats", headers=stranger.headers)

        assert response.status_code == 404
        assert response.json()["error"] == "campaign_not_found"

    async def test_an_unknown_campaign_is_not_found(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(client)

        response = await client.get(f"/api/v1/campaigns/{uuid.uuid4()}/stats", headers=org.headers)

        assert response.status_code == 404

    async def test_the_endpoint_is_described_in_openapi(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/api/v1/openapi.json")).json()

        assert "/api/v1/campaigns/{campaign_id}/stats" in document["paths"]
