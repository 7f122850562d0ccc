"""GET /s/{code}: visits counted once per visitor and day, bots ignored, first touch bound once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from starlette.applications import Starlette

from campaigns.campaign.models import Campaign
from campaigns.sharing import referral
from campaigns.sharing.models import ShareLink, ShareLinkKind, ShareVisit
from campaigns.sharing.service import visitor_hash
from service.db import Database
from tests.campaigns.giving.helpers import live
from tests.conftest import TEST_SECRET_KEY

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


async def channel_link(database: Database, slug: str, *, code: str | None = None) -> ShareLink:
    async with database.transaction() as session:
        campaign = await session.scalar(sa.select(Campaign).where(Campaign.slug == slug))
        assert campaign is not None
        link = ShareLink(
            campaign_id=campaign.id,
            code=code or uuid.uuid4().hex[:10],
            kind=ShareLinkKind.CHANNEL,
            channel="tiktok",
        )
        session.add(link)
    return link


async def visits(database: Database, link: ShareLink) -> tuple[int, int]:
    async with database.transaction() as session:
        count = await session.scalar(sa.select(ShareLink.visit_count).where(ShareLink.id == link.id))
        rows = await session.scalar(
            sa.select(sa.func.count()).select_from(ShareVisit).where(ShareVisit.share_link_id == link.id)
        )
    return int(count or 0), int(rows or 0)


def client_from(app: Starlette, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 1234))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


class TestFollowingAShareLink:
    async def test_redirects_to_the_campaign(self, client: httpx.AsyncClient, database: Database) -> None:
        campaign = await live(client, database)
        link = await channel_link(database, campaign["slug"])

        response = await client.get(f"/s/{link.code}", headers={"user-agent": BROWSER})

        assert response.status_code in (302, 303)
        assert response.headers["location"] == f"/c/{campaign['slug']}"
        assert response.headers["cache-control"] == "no-store"

    async def test_unknown_code_is_not_found(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/s/nope-nope", headers={"user-agent": BROWSER})

        assert response.status_code == 404

    async def test_same_visitor_counts_once_per_window(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        link = await channel_link(database, campaign["slug"])

        for _ in range(3):
            await client.get(f"/s/{link.code}", headers={"user-agent": BROWSER})
        await client.get(f"/s/{link.code}", headers={"user-agent": BROWSER + " Firefox"})

        assert await visits(database, link) == (2, 2)

    async def test_different_addresses_are_different_visitors(
        self, app: Starlette, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        link = await channel_link(database, campaign["slug"])

        for address in ("198.51.100.1", "198.51.100.2", "198.51.100.2"):
            async with client_from(app, address) as other:
                await other.get(f"/s/{link.code}", headers={"user-agent": BROWSER})

        assert await visits(database, link) == (2, 2)

    async def test_bots_and_link_previews_are_not_counted(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        link = await channel_link(database, campaign["slug"])
        agents = [
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "Twitterbot/1.0",
            "Mozilla/5.0 (compatible; Discordbot/2.0)",
            "SomeCrawler/3.0",
            "link preview service",
            "",
        ]

        for agent in agents:
            response = await client.get(f"/s/{link.code}", headers={"user-agent": agent})
            assert response.status_code == 302

        assert await visits(database, link) == (0, 0)

    async def test_no_raw_address_or_user_agent_is_stored(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        link = await channel_link(database, campaign["slug"])

        await client.get(f"/s/{link.code}", headers={"user-agent": BROWSER})

        async with database.transaction() as session:
            dump = ""
            for table in ("share_visits", "share_links", "rate_limit_windows"):
                rows = (await session.execute(sa.text(f"SELECT * FROM {table}"))).all()  # noqa: S608
                dump += repr(rows)
        assert "203.0.113.7" not in dump
        assert "iPhone" not in dump
        assert (
            visitor_hash(TEST_SECRET_KEY, address="203.0.113.7", user_agent=BROWSER, now=datetime.now(UTC))
            in dump
        )

    async def test_visitor_key_rotates_daily(self) -> None:
        day1 = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
        day2 = datetime(2026, 12, 2, 0, 1, tzinfo=UTC)

        same_day = visitor_hash("k", address="a", user_agent="u", now=day1.replace(hour=1))
        first = visitor_hash("k", address="a", user_agent="u", now=day1)
        second = visitor_hash("k", address="a", user_agent="u", now=day2)

        assert first == same_day
        assert first != second


class TestReferralCookie:
    async def test_first_link_sets_a_signed_cookie(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        link = await channel_link(database, campaign["slug"])

        response = await client.get(f"/s/{link.code}", headers={"user-agent": BROWSER})

        name = referral.cookie_name(link.campaign_id)
        value = response.cookies.get(name)
        assert value is not None
        assert referral.read_referral(TEST_SECRET_KEY, value, campaign_id=link.campaign_id) == link.id
        header = response.headers["set-cookie"]
        assert "HttpOnly" in header and "SameSite=lax" in header and "Max-Age=2592000" in header

    async def test_a_later_link_does_not_replace_the_first_touch(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        first = await channel_link(database, campaign["slug"])
        second = await channel_link(database, campaign["slug"])

        await client.get(f"/s/{first.code}", headers={"user-agent": BROWSER})
        again = await client.get(f"/s/{second.code}", headers={"user-agent": BROWSER})

        assert "set-cookie" not in again.headers
        value = client.cookies.get(referral.cookie_name(first.campaign_id))
        assert referral.read_referral(TEST_SECRET_KEY, value, campaign_id=first.campaign_id) == first.id

    async def test_a_forged_cookie_is_replaced(self, client: httpx.AsyncClient, database: Database) -> None:
        campaign = await live(client, database)
        link = await channel_link(database, campaign["slug"])
        name = referral.cookie_name(link.campaign_id)
        client.cookies.set(name, "forged.value.here")

        response = await client.get(f"/s/{link.code}", headers={"user-agent": BROWSER})

        assert (
            referral.read_referral(TEST_SECRET_KEY, response.cookies.get(name), campaign_id=link.campaign_id)
            == link.id
        )

    def test_an_expired_cookie_is_not_read(self) -> None:
        campaign_id, link_id = uuid.uuid4(), uuid.uuid4()
        value = referral.sign_referral(TEST_SECRET_KEY, link_id=link_id, campaign_id=campaign_id)

        assert referral.read_referral(TEST_SECRET_KEY, value, campaign_id=campaign_id) == link_id
        assert referral.read_referral(TEST_SECRET_KEY, value, campaign_id=uuid.uuid4()) is None
        assert (
            referral.read_referral(
                TEST_SECRET_KEY, value, campaign_id=campaign_id, window=timedelta(seconds=-1)
            )
            is None
        )
