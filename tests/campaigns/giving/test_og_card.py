"""The Open Graph card (giving/og_card.py) and GET /c/{slug}/og.png (giving/share_pages.py):
a 1200x630 PNG of what it shows, cached by those facts, new when the totals move."""

from __future__ import annotations

import dataclasses
import io

import httpx
import sqlalchemy as sa
from PIL import Image

from campaigns.campaign.models import Campaign
from campaigns.giving import service
from campaigns.giving.og_card import HEIGHT, WIDTH, CardCache, CardFacts, card_facts, draw_card
from service.auth.models import AdminRole
from service.db import Database
from tests.builders import insert_admin
from tests.campaigns.giving.helpers import live
from tests.campaigns.matching.helpers import program_payload

FACTS = CardFacts(
    title="Winter coats for 300 kids in the Harbor District before the first frost",
    organisation="Harbor Relief",
    currency="eur",
    goal_minor=500_000,
    raised_minor=125_000,
    matched_minor=40_000,
    donors_count=37,
    offer="every gift is doubled until Friday 11 December",
)


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


class TestCard:
    def test_is_a_1200_by_630_png(self) -> None:
        image = _image(draw_card(FACTS))

        assert image.format == "PNG"
        assert image.size == (WIDTH, HEIGHT) == (1200, 630)

    def test_draws_what_it_is_told(self) -> None:
        # Progress is drawn: a campaign further along has more of the accent colour.
        def accent_pixels(facts: CardFacts) -> int:
            image = _image(draw_card(facts)).convert("RGB")
            counts = {colour: n for n, colour in image.getcolors(maxcolors=WIDTH * HEIGHT) or []}
            return counts.get((0x0B, 0x7A, 0x5A), 0)

        half = dataclasses.replace(FACTS, raised_minor=250_000, matched_minor=0)
        full = dataclasses.replace(FACTS, raised_minor=500_000, matched_minor=0)
        assert accent_pixels(half) < accent_pixels(full)

    def test_a_title_too_long_for_the_card_still_fits(self) -> None:
        facts = dataclasses.replace(FACTS, title="Supercalifragilistic " * 40, organisation="X" * 200)
        assert _image(draw_card(facts)).size == (1200, 630)

    def test_version_follows_the_facts(self) -> None:
        assert FACTS.version == dataclasses.replace(FACTS).version
        assert FACTS.version != dataclasses.replace(FACTS, raised_minor=125_001).version
        assert FACTS.version != dataclasses.replace(FACTS, offer=None).version


class TestCardCache:
    async def test_the_same_facts_are_drawn_once(self) -> None:
        cache = CardCache()

        first = await cache.get(FACTS)
        second = await cache.get(dataclasses.replace(FACTS))

        assert second is first
        assert (cache.hits, cache.misses) == (1, 1)

    async def test_new_totals_draw_a_new_card(self) -> None:
        cache = CardCache()
        before = await cache.get(FACTS)

        after = await cache.get(dataclasses.replace(FACTS, raised_minor=130_000, donors_count=38))

        assert after != before
        assert (cache.hits, cache.misses) == (0, 2)

    async def test_keeps_only_the_most_recently_used(self) -> None:
        cache = CardCache(max_entries=2)
        a, b, c = (dataclasses.replace(FACTS, donors_count=n) for n in (1, 2, 3))
        await cache.get(a)
        await cache.get(b)
        await cache.get(a)  # a is now the most recent; b goes when c comes
        await cache.get(c)

        assert len(cache) == 2
        await cache.get(a)
        assert cache.hits == 2
        await cache.get(b)
        assert cache.misses == 4


async def _set_totals(database: Database, slug: str, **values: int) -> None:
    async with database.transaction() as session:
        await session.execute(sa.update(Campaign).where(Campaign.slug == slug).values(**values))


class TestOgImageRoute:
    async def test_serves_the_card_with_cache_headers(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)

        response = await client.get(f"/c/{campaign['slug']}/og.png")

        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert _image(response.content).size == (1200, 630)
        cache_control = response.headers["cache-control"]
        assert "public" in cache_control and "max-age=" in cache_control
        assert "stale-while-revalidate=" in cache_control
        assert response.headers["etag"].startswith('"')

    async def test_an_unchanged_card_is_not_sent_again(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        first = await client.get(f"/c/{campaign['slug']}/og.png")

        again = await client.get(
            f"/c/{campaign['slug']}/og.png", headers={"If-None-Match": first.headers["etag"]}
        )

        assert again.status_code == 304
        assert again.content == b""

    async def test_moving_totals_make_a_new_card(self, client: httpx.AsyncClient, database: Database) -> None:
        campaign = await live(client, database)
        slug = campaign["slug"]
        before = await client.get(f"/c/{slug}/og.png")
        page_before = (await client.get(f"/c/{slug}")).text

        await _set_totals(database, slug, raised_minor=75_000, donor_count=4)
        after = await client.get(f"/c/{slug}/og.png", headers={"If-None-Match": before.headers["etag"]})

        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        assert after.content != before.content
        # The page names the card by its version: new totals, new URL (networks keep images by URL).
        version = before.headers["etag"].strip('"')[:12]
        assert f"/c/{slug}/og.png?v={version}" in page_before

    async def test_unknown_campaign_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/c/no-such-campaign/og.png")

        assert response.status_code == 404


class TestCardFacts:
    async def test_a_live_match_offer_is_on_the_card(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        finance = await insert_admin(database, role=AdminRole.FINANCE)
        response = await client.post(
            "/api/v1/admin/matching-programs",
            json=program_payload(name="Winter match", campaign_ids=[campaign["id"]]),
            headers=finance.headers,
        )
        assert response.status_code == 201, response.text

        async with database.transaction() as session:
            view = await service.campaign_view(session, slug=campaign["slug"], now=session.now())
        facts = card_facts(view)

        assert facts.offer is not None and facts.offer.startswith("every gift is doubled until ")
        assert facts.title == campaign["title"] and facts.organisation == view.nonprofit.name
