"""The public campaign page: story, thermometer, social tags, the donate form, and closed states."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from campaigns.campaign.models import Campaign, CampaignStatus
from campaigns.donations.models import Donation, DonationStatus
from service import i18n
from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.giving.helpers import live


def _meta(page: str, key: str) -> str | None:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', page)
    return match.group(1) if match else None


async def _set(database: Database, slug: str, **values: object) -> None:
    async with database.transaction() as session:
        await session.execute(sa.update(Campaign).where(Campaign.slug == slug).values(**values))


class TestCampaignPage:
    async def test_renders_story_thermometer_and_donor_count(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(
            client, database, goal_minor=200_000, story="Every child deserves a **warm** coat."
        )
        await _set(database, campaign["slug"], raised_minor=50_000, donor_count=3)

        response = await client.get(f"/c/{campaign['slug']}")

        assert response.status_code == 200
        assert "<strong>warm</strong>" in response.text
        assert '<progress id="progress-bar" max="200000" value="50000"' in response.text
        assert '<strong id="percent">25%</strong>' in response.text
        assert "€500.00" in response.text and "€2,000.00" in response.text
        assert "3 donors" in response.text

    async def test_has_open_graph_and_twitter_tags_from_the_story(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(
            client,
            database,
            story="## Why\n\nEvery child deserves a **warm** coat & a hat.",
            cover_image_url="https://images.example.org/coats.jpg",
        )
        slug = campaign["slug"]

        page = (await client.get(f"/c/{slug}")).text

        assert _meta(page, "og:title") == "Winter coats for 300 kids"
        assert _meta(page, "og:description") == "Why Every child deserves a warm coat &amp; a hat."
        # The generated card, not the cover: it carries the title, the organisation and progress.
        assert re.fullmatch(
            rf"http://testserver/c/{slug}/og\.png\?v=[0-9a-f]{{12}}", _meta(page, "og:image") or ""
        )
        assert _meta(page, "og:image:width") == "1200" and _meta(page, "og:image:height") == "630"
        assert _meta(page, "twitter:image") == _meta(page, "og:image")
        assert _meta(page, "og:url") == f"http://testserver/c/{slug}"
        assert _meta(page, "twitter:card") == "summary_large_image"
        assert f'<link rel="canonical" href="http://testserver/c/{slug}">' in page

    async def test_nothing_is_preselected_and_fee_cover_is_unchecked(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)

        page = (await client.get(f"/c/{campaign['slug']}")).text

        form = page[page.index('<form method="post"') : page.index("</form>")]
        assert 'name="cover_fees"' in form
        # "Once" is the frequency's default; a recurring gift is never chosen for the donor.
        assert "checked" not in form.replace('name="frequency" value="once" checked', "")
        assert "tip" not in form.lower().replace("no tip", "")
        assert re.search(r'name="amount" value="10\.00"', form)

    async def test_shows_recent_supporters_and_keeps_anonymous_ones_anonymous(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        async with database.transaction() as session:
            row = await session.scalar(sa.select(Campaign).where(Campaign.slug == campaign["slug"]))
            assert row is not None
            for name, anonymous, message in (("Ada", False, "Stay warm!"), ("Grace", True, "For the kids")):
                session.add(
                    Donation(
                        campaign_id=row.id,
                        nonprofit_id=row.nonprofit_id,
                        amount_minor=2500,
                        currency="eur",
                        status=DonationStatus.CONFIRMED,
                        donor_name=name,
                        donor_email=f"{name.lower()}@example.org",
                        anonymous=anonymous,
                        message=message,
                    )
                )

        page = (await client.get(f"/c/{campaign['slug']}")).text

        supporters = page[page.index('id="supporters"') :]
        assert "Ada" in supporters and "Stay warm!" in supporters
        assert "Grace" not in page and "grace@example.org" not in page
        assert "Anonymous" in supporters and "For the kids" in supporters

    async def test_drafts_and_campaigns_in_review_are_not_public(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(client)
        draft = await builders.create_campaign(client, org)

        response = await client.get(f"/c/{draft['slug']}")

        assert response.status_code == 404

    async def test_a_repeat_visitor_gets_a_cacheable_page_and_a_device_cookie_once(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)

        first = await client.get(f"/c/{campaign['slug']}")
        second = await client.get(f"/c/{campaign['slug']}")

        cookie = first.headers["set-cookie"]
        assert cookie.startswith("gl_device=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Max-Age=31536000" in cookie
        assert first.headers["cache-control"] == "private, no-store"
        assert "set-cookie" not in second.headers
        assert second.headers["cache-control"].startswith("public, max-age=")
        assert "goodloop_session" not in cookie


class TestClosedCampaigns:
    async def _closed_page(self, client: httpx.AsyncClient, slug: str) -> str:
        response = await client.get(f"/c/{slug}")
        assert response.status_code == 200
        assert 'id="donate-form"' not in response.text
        match = re.search(r'id="closed-reason" role="status">([^<]+)<', response.text)
        assert match is not None
        return match.group(1)

    async def test_paused_campaign_says_so_and_has_no_form(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        await _set(database, campaign["slug"], status=CampaignStatus.PAUSED)

        assert "paused" in await self._closed_page(client, campaign["slug"])

    async def test_ended_campaign_says_so(self, client: httpx.AsyncClient, database: Database) -> None:
        campaign = await live(client, database)
        await _set(database, campaign["slug"], status=CampaignStatus.ENDED)

        assert "ended" in await self._closed_page(client, campaign["slug"])

    async def test_not_yet_started_campaign_says_when_it_opens(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        starts = datetime.now(UTC) + timedelta(days=3)
        campaign = await live(client, database)
        await _set(database, campaign["slug"], starts_at=starts)

        # The date as Babel writes it for the page's language (English here).
        assert f"opens for donations on {i18n.format_date(starts, 'en')}" in await self._closed_page(
            client, campaign["slug"]
        )

    async def test_campaign_past_its_end_date_is_over(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        await _set(database, campaign["slug"], ends_at=datetime.now(UTC) - timedelta(minutes=1))

        assert "over" in await self._closed_page(client, campaign["slug"])


class TestPageCache:
    async def test_cached_page_may_be_seconds_old_but_donations_stop_at_once(
        self, settings: Settings, database: Database
    ) -> None:
        cached_settings = dataclasses.replace(settings, public_page_ttl_s=30.0)
        app = create_app(cached_settings, database=database)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.50", 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                campaign = await live(client, database)
                slug = campaign["slug"]
                first = await client.get(f"/c/{slug}")
                await _set(database, slug, status=CampaignStatus.PAUSED)

                second = await client.get(f"/c/{slug}")
                checkout = await client.post(
                    f"/api/v1/public/campaigns/{slug}/checkout",
                    json={"amount_minor": 2500, "currency": campaign["currency"]},
                )

        assert second.text == first.text
        assert 'id="donate-form"' in second.text
        assert checkout.status_code == 409
