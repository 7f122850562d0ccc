"""The donor's public pages in Dutch and English (#19): the language rule (?lang=, the gl_lang
cookie, Accept-Language, the campaign's default), what the pages say about it (html lang,
Content-Language, hreflang, Vary), the page cache keyed by it, and Stripe Checkout opened in it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from campaigns.campaign.models import Campaign
from campaigns.giving.progress import CampaignProgress, days_left_text, progress_texts
from campaigns.giving.timeago import relative_time
from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests.campaigns.giving.helpers import form_token_in, live
from tests.campaigns.giving.stripe_double import StripeDouble
from tests.campaigns.giving.test_fast_path import comparable, fast_hits
from tests.campaigns.giving.test_thanks_and_embed import confirm, started, status_path

NBSP = "\xa0"


def html_lang(page: httpx.Response) -> str:
    match = re.search(r'<html lang="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


async def set_default_language(database: Database, slug: str, language: str) -> None:
    async with database.transaction() as session:
        await session.execute(
            sa.update(Campaign).where(Campaign.slug == slug).values(default_language=language)
        )


async def get(client: httpx.AsyncClient, path: str, **headers: str) -> httpx.Response:
    client.cookies.clear()  # exactly the cookies given, nothing kept from an earlier answer
    return await client.get(path, headers=headers)


class TestCampaignPageLanguage:
    async def test_english_without_any_hint(self, client: httpx.AsyncClient, database: Database) -> None:
        slug = (await live(client, database))["slug"]

        page = await get(client, f"/c/{slug}")

        assert html_lang(page) == "en"
        assert page.headers["content-language"] == "en"
        assert ">Donate</button>" in page.text and "€25.00" in page.text
        assert page.headers["vary"] == "Accept-Encoding, Accept-Language, Cookie"

    async def test_lang_in_the_url_gives_dutch_and_is_remembered(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(client, database))["slug"]

        page = await get(client, f"/c/{slug}?lang=nl")

        assert html_lang(page) == "nl"
        assert page.headers["content-language"] == "nl"
        assert ">Doneer</button>" in page.text
        assert f"€{NBSP}25,00" in page.text and "€25.00" not in page.text
        assert "opgehaald van" in page.text and "0 donateurs" in page.text
        assert 'name="language" value="nl"' in page.text
        assert "gl_lang=nl" in page.headers["set-cookie"]
        # Its URL names the language: shared caches may key it by URL (and encoding) alone; this
        # answer sets a cookie, so it is this visitor's.
        assert page.headers["vary"] == "Accept-Encoding"
        assert page.headers["cache-control"] == "private, no-store"

    async def test_the_cookie_gives_dutch(self, client: httpx.AsyncClient, database: Database) -> None:
        slug = (await live(client, database))["slug"]

        page = await get(client, f"/c/{slug}", Cookie="gl_lang=nl")

        assert html_lang(page) == "nl" and ">Doneer</button>" in page.text
        assert page.headers["vary"] == "Accept-Encoding, Accept-Language, Cookie"

    async def test_the_url_beats_the_cookie(self, client: httpx.AsyncClient, database: Database) -> None:
        slug = (await live(client, database))["slug"]

        page = await get(client, f"/c/{slug}?lang=en", Cookie="gl_lang=nl")

        assert html_lang(page) == "en"
        assert "gl_lang=en" in page.headers["set-cookie"]

    async def test_the_browser_language_gives_dutch(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(client, database))["slug"]

        page = await get(client, f"/c/{slug}", **{"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"})

        assert html_lang(page) == "nl" and ">Doneer</button>" in page.text

    async def test_the_campaigns_default_when_the_browser_names_neither(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(client, database))["slug"]
        await set_default_language(database, slug, "nl")

        german = await get(client, f"/c/{slug}", **{"Accept-Language": "de-DE"})
        english = await get(client, f"/c/{slug}", **{"Accept-Language": "en-GB"})

        assert html_lang(german) == "nl" and ">Doneer</button>" in german.text
        assert '<dd id="org-country">Ierland</dd>' in german.text
        assert html_lang(english) == "en" and ">Donate</button>" in english.text

    async def test_hreflang_alternates_are_absolute_public_urls(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(client, database))["slug"]

        page = await get(client, f"/c/{slug}?lang=nl")

        links = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page.text))
        assert links == {
            "nl": f"http://testserver/c/{slug}?lang=nl",
            "en": f"http://testserver/c/{slug}?lang=en",
            "x-default": f"http://testserver/c/{slug}",
        }
        assert '<a href="?lang=en" hreflang="en" lang="en" rel="alternate">English</a>' in page.text


@pytest.fixture
async def cached_client(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(settings, public_page_ttl_s=60.0), database=database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.61", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


class TestPageCache:
    @pytest.mark.parametrize("path", ["/c/{slug}", "/embed/{slug}"], ids=["campaign", "embed"])
    async def test_a_dutch_page_in_the_cache_is_never_served_to_an_english_reader(
        self, cached_client: httpx.AsyncClient, database: Database, path: str
    ) -> None:
        slug = (await live(cached_client, database))["slug"]
        url = path.format(slug=slug)

        dutch = await get(cached_client, url, **{"Accept-Language": "nl"})
        english = await get(cached_client, url, **{"Accept-Language": "en"})
        dutch_again = await get(cached_client, url, Cookie="gl_lang=nl")

        assert (html_lang(dutch), html_lang(english), html_lang(dutch_again)) == ("nl", "en", "nl")
        assert dutch_again.content == dutch.content

    async def test_the_campaigns_default_is_cached_apart_from_the_languages_asked_for(
        self, cached_client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(cached_client, database))["slug"]
        await set_default_language(database, slug, "nl")

        unasked = await get(cached_client, f"/c/{slug}")
        english = await get(cached_client, f"/c/{slug}", **{"Accept-Language": "en"})

        assert (html_lang(unasked), html_lang(english)) == ("nl", "en")

    @pytest.mark.parametrize(
        "headers",
        [
            {"Accept-Language": "nl-NL,nl;q=0.9"},
            {"Cookie": "gl_lang=nl; gl_device=dGhpcy1pcy1hLWRldmljZS1pZA"},
            {"Cookie": "gl_lang=en", "Accept-Language": "nl"},
        ],
        ids=["accept_language_nl", "cookie_nl", "cookie_en_over_browser_nl"],
    )
    async def test_the_fast_path_serves_each_language_byte_for_byte(
        self, cached_client: httpx.AsyncClient, database: Database, headers: dict[str, str]
    ) -> None:
        slug = (await live(cached_client, database))["slug"]

        normal = await get(cached_client, f"/c/{slug}", **headers)  # rendered and cached
        hits = fast_hits()
        fast = await get(cached_client, f"/c/{slug}", **headers)

        assert fast_hits() == hits + 1
        assert fast.content == normal.content
        assert comparable(fast) == comparable(normal)

    async def test_the_fast_path_serves_a_page_asked_for_in_the_url_once_remembered(
        self, cached_client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(cached_client, database))["slug"]

        normal = await get(cached_client, f"/c/{slug}?lang=nl", Cookie="gl_lang=nl")  # rendered
        hits = fast_hits()
        fast = await get(cached_client, f"/c/{slug}?lang=nl", Cookie="gl_lang=nl")
        assert fast_hits() == hits + 1
        remembered = await get(cached_client, f"/c/{slug}?lang=nl")  # cached, but sets the cookie
        assert fast_hits() == hits + 1, "a ?lang= the cookie does not hold yet takes the normal path"

        assert fast.content == normal.content == remembered.content
        assert comparable(fast) == comparable(normal)
        assert fast.headers["vary"] == "Accept-Encoding"
        assert "gl_lang=nl" in remembered.headers["set-cookie"]


class TestOtherPages:
    async def test_embed_speaks_dutch(self, client: httpx.AsyncClient, database: Database) -> None:
        slug = (await live(client, database))["slug"]

        page = await get(client, f"/embed/{slug}?lang=nl")

        assert html_lang(page) == "nl"
        assert ">Doneer</button>" in page.text and "Rond af in het nieuwe tabblad" in page.text

    @pytest.mark.parametrize(
        ("path", "dutch"),
        [
            ("/c/{slug}/report", "Meld deze campagne"),
            ("/c/{slug}/supporters", "Iedereen die gaf"),
            ("/c/{slug}/updates", "Nog geen updates."),
            ("/privacy", "Privacyverklaring"),
            ("/terms", "Gebruiksvoorwaarden"),
        ],
        ids=["report", "supporters", "updates", "privacy", "terms"],
    )
    async def test_public_pages_in_both_languages(
        self, client: httpx.AsyncClient, database: Database, path: str, dutch: str
    ) -> None:
        slug = (await live(client, database))["slug"]

        nl = await get(client, path.format(slug=slug), **{"Accept-Language": "nl"})
        en = await get(client, path.format(slug=slug))

        assert (nl.status_code, en.status_code) == (200, 200)
        assert (html_lang(nl), html_lang(en)) == ("nl", "en")
        assert dutch in nl.text and dutch not in en.text
        assert nl.headers["content-language"] == "nl"

    async def test_thanks_page_in_the_language_the_donor_gave_in(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        body = (
            await client.post(
                f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
                json={"amount_minor": 2500, "currency": "eur", "language": "nl"},
            )
        ).json()
        [call] = stripe_double.checkout_calls()
        success = call.params["success_url"].replace(
            "{CHECKOUT_SESSION_ID}", next(iter(stripe_double.sessions))
        )
        await confirm(database, body["donation_id"])

        dutch = await get(client, success)
        english = await get(client, success + "&lang=en")

        assert html_lang(dutch) == "nl" and "Bedankt!" in dutch.text and f"€{NBSP}25,00" in dutch.text
        assert html_lang(english) == "en" and "Thank you!" in english.text

    async def test_thanks_status_in_the_pages_language(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        flow = await started(client, database, stripe_double)

        status = await get(client, status_path(flow["success"]) + "&lang=nl")

        assert status.status_code == 200 and status.json()["state"] == "processing"


class TestOpenGraphCard:
    async def test_a_dutch_page_shares_a_card_drawn_in_dutch(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = (await live(client, database))["slug"]

        dutch = await get(client, f"/c/{slug}?lang=nl")
        english = await get(client, f"/c/{slug}?lang=en")
        nl_image = re.search(r'<meta property="og:image" content="([^"]+)">', dutch.text)
        en_image = re.search(r'<meta property="og:image" content="([^"]+)">', english.text)
        assert nl_image is not None and en_image is not None
        nl_card = await get(client, nl_image.group(1).replace("&amp;", "&"))
        en_card = await get(client, en_image.group(1))

        assert nl_image.group(1).endswith("&amp;lang=nl") and "lang=" not in en_image.group(1)
        assert (nl_card.status_code, en_card.status_code) == (200, 200)
        assert nl_card.headers["etag"] != en_card.headers["etag"]
        assert nl_card.content != en_card.content


class TestCheckoutLocale:
    async def test_the_donate_form_opens_checkout_in_the_pages_language(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        page = await get(client, f"/c/{campaign['slug']}?lang=nl")

        await client.post(
            f"/c/{campaign['slug']}/donate",
            data={
                "form_token": form_token_in(page.text),
                "currency": "eur",
                "amount": "25,00",
                "language": "nl",
            },
        )

        [call] = stripe_double.checkout_calls()
        assert call.params["locale"] == "nl"
        assert (
            call.params["line_items[0][price_data][product_data][name]"] == f"Donatie aan {campaign['title']}"
        )

    async def test_a_dutch_reader_types_a_decimal_comma(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)
        page = await get(client, f"/c/{campaign['slug']}?lang=nl")

        answer = await client.post(
            f"/c/{campaign['slug']}/donate",
            data={
                "form_token": form_token_in(page.text),
                "currency": "eur",
                "custom_amount": "12,50",
                "language": "nl",
            },
        )

        assert answer.status_code == 303
        [call] = stripe_double.checkout_calls()
        assert call.params["line_items[0][price_data][unit_amount]"] == "1250"
        assert 'value="25,00"' in page.text, "the suggested amounts are written the Dutch way"

    @pytest.mark.parametrize(
        ("asked", "locale"),
        [({"language": "en"}, "en"), ({}, "en"), ({"language": "nl"}, "nl")],
        ids=["en", "none", "nl"],
    )
    async def test_the_api_checkout_sends_the_donors_language(
        self,
        client: httpx.AsyncClient,
        database: Database,
        stripe_double: StripeDouble,
        asked: dict[str, Any],
        locale: str,
    ) -> None:
        campaign = await live(client, database)

        await client.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": 2500, "currency": "eur", **asked},
        )

        [call] = stripe_double.checkout_calls()
        assert call.params["locale"] == locale

    async def test_a_monthly_gift_is_named_in_dutch(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        campaign = await live(client, database)

        await client.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": 2500, "currency": "eur", "language": "nl", "frequency": "monthly"},
        )

        [call] = stripe_double.checkout_calls()
        assert call.params["locale"] == "nl"
        assert call.params["mode"] == "subscription"
        name = call.params["line_items[0][price_data][product_data][name]"]
        assert name == f"Maandelijkse gift aan {campaign['title']}"


NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class TestWords:
    @pytest.mark.parametrize(
        ("ends_in", "nl", "en"),
        [
            (timedelta(days=3, hours=2), "nog 3 dagen", "3 days left"),
            (timedelta(days=1, hours=1), "nog 1 dag", "1 day left"),
            (timedelta(hours=5), "laatste dag", "last day"),
        ],
        ids=["days", "one_day", "last_day"],
    )
    def test_time_left(self, ends_in: timedelta, nl: str, en: str) -> None:
        assert days_left_text(NOW + ends_in, now=NOW, language="nl") == nl
        assert days_left_text(NOW + ends_in, now=NOW, language="en") == en

    def test_progress_in_dutch_uses_babels_money_and_numbers(self) -> None:
        progress = CampaignProgress(
            currency="eur",
            goal_minor=500_000,
            raised_minor=125_000,
            matched_minor=0,
            total_minor=125_000,
            donors_count=1204,
            percent=25,
            ends_at=None,
        )

        assert progress_texts(progress, "nl") == {
            "raised_text": f"€{NBSP}1.250,00",
            "matched_text": f"€{NBSP}0,00",
            "total_text": f"€{NBSP}1.250,00",
            "percent_text": "25%",
            "donors_text": "1.204 donateurs",
        }
        assert progress_texts(progress, "en")["donors_text"] == "1,204 donors"

    def test_relative_time_in_dutch(self) -> None:
        assert relative_time(NOW - timedelta(hours=2), NOW, "nl") == "2 uur geleden"
        assert relative_time(NOW - timedelta(seconds=20), NOW, "nl") == "zojuist"
        assert relative_time(NOW - timedelta(days=40), NOW, "nl") == "25 okt 2026"
