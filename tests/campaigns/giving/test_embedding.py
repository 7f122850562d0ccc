"""The embed's rules: which sites may frame the form (asked by embed.js before it builds a
frame), and the way back to the embedding page after paying (never an open redirect)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from campaigns.giving.embedding import MAX_RETURN_TO_LENGTH, ReturnLink, return_link
from service.db import Database
from tests.campaigns.giving.helpers import donate_form, live
from tests.campaigns.giving.stripe_double import StripeDouble
from tests.campaigns.giving.test_thanks_and_embed import confirm

ALLOWED = ["https://harbor-relief.org", "https://www.shop.example.com", "http://localhost:8080"]


class TestReturnLink:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (
                "https://harbor-relief.org/give?campaign=coats",
                ReturnLink(url="https://harbor-relief.org/give?campaign=coats", host="harbor-relief.org"),
            ),
            (
                "https://harbor-relief.org",
                ReturnLink(url="https://harbor-relief.org/", host="harbor-relief.org"),
            ),
            (
                "https://www.shop.example.com/cart#thanks",
                ReturnLink(url="https://www.shop.example.com/cart", host="shop.example.com"),
            ),
            ("http://localhost:8080/x", ReturnLink(url="http://localhost:8080/x", host="localhost")),
            (
                "HTTPS://Harbor-Relief.org/a",
                ReturnLink(url="https://harbor-relief.org/a", host="harbor-relief.org"),
            ),
        ],
    )
    def test_an_address_on_an_allowed_origin_is_kept_without_its_fragment(
        self, value: str, expected: ReturnLink
    ) -> None:
        assert return_link(value, ALLOWED) == expected

    @pytest.mark.parametrize(
        "value",
        [
            "https://evil.example/give",
            "https://harbor-relief.org.evil.example/",
            "https://harbor-relief.org@evil.example/",
            "https://evil.example@harbor-relief.org/",
            "https://evil.example\\@harbor-relief.org/",
            "https://harbor-relief.org\\.evil.example/",
            "http://harbor-relief.org/",
            "https://harbor-relief.org:8443/",
            "https://harbor-relief.org:443/",
            "http://localhost/x",
            "javascript:alert(1)//https://harbor-relief.org",
            "//harbor-relief.org/give",
            "/c/coats",
            "https://harbor-relief.org/a b",
            "https://harbor-relief.org/\n",
            "https://harbor-relief.org:99999/",
            "https://[::1/",
            "",
            None,
            "https://harbor-relief.org/" + "a" * MAX_RETURN_TO_LENGTH,
        ],
    )
    def test_anything_else_is_dropped(self, value: str | None) -> None:
        assert return_link(value, ALLOWED) is None

    def test_a_campaign_without_allowed_origins_keeps_nothing(self) -> None:
        assert return_link("https://harbor-relief.org/give", []) is None


class TestOriginsEndpoint:
    async def test_lists_the_allowed_origins_for_any_site_to_read(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database, allowed_embed_origins=["https://harbor-relief.org"])

        response = await client.get(f"/embed/{campaign['slug']}/origins", headers={"Origin": "https://x.org"})

        assert response.status_code == 200
        body = response.json()
        assert body["allowed_origins"] == ["https://harbor-relief.org"]
        assert re.fullmatch(rf"https?://[^/]+/c/{campaign['slug']}", body["campaign_url"])
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["content-type"] == "application/json"
        assert "public" in response.headers["cache-control"]

    async def test_no_origins_is_an_empty_list(self, client: httpx.AsyncClient, database: Database) -> None:
        campaign = await live(client, database, allowed_embed_origins=[])

        response = await client.get(f"/embed/{campaign['slug']}/origins")

        assert response.json()["allowed_origins"] == []

    async def test_unknown_campaign_is_a_json_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/embed/no-such-campaign/origins")

        assert response.status_code == 404
        assert response.json()["error"] == "campaign_not_found"
        assert response.headers["access-control-allow-origin"] == "*"


class TestEmbedPage:
    async def test_offers_where_to_pay_and_carries_the_way_back(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database, allowed_embed_origins=["https://harbor-relief.org"])

        page = (await client.get(f"/embed/{campaign['slug']}")).text

        assert '<script src="/static/embed-frame.js" defer></script>' in page
        assert re.search(r'<fieldset class="pay-in" id="pay-in" hidden>', page)
        assert 'name="return_to" id="return-to"' in page
        assert 'id="pay-elsewhere" hidden' in page

    async def test_the_campaign_page_has_no_choice_of_where_to_pay(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database, allowed_embed_origins=["https://harbor-relief.org"])

        page = (await client.get(f"/c/{campaign['slug']}")).text

        assert 'id="pay-in"' not in page and "return_to" not in page


def success_url(stripe_double: StripeDouble) -> str:
    [call] = stripe_double.checkout_calls()
    session_id = next(iter(stripe_double.sessions))
    url: str = call.params["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
    return url


class TestWayBack:
    async def _give(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble, return_to: str
    ) -> tuple[str, str]:
        campaign = await live(client, database, allowed_embed_origins=["https://harbor-relief.org"])
        response = await donate_form(client, campaign["slug"], amount="25.00", return_to=return_to)
        assert response.status_code == 303, response.text
        url = success_url(stripe_double)
        [donation_id] = parse_qs(urlsplit(url).query)["donation"]
        await confirm(database, donation_id)
        return url, campaign["slug"]

    async def test_an_allowed_page_survives_checkout_and_is_offered_after_paying(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        url, _ = await self._give(
            client, database, stripe_double, "https://harbor-relief.org/winter?ref=nl#top"
        )

        assert parse_qs(urlsplit(url).query)["return_to"] == ["https://harbor-relief.org/winter?ref=nl"]
        page = (await client.get(url)).text
        link = re.search(
            r'<a class="button secondary" id="return-link" href="([^"]+)"[^>]*>([^<]+)</a>', page
        )
        assert link is not None
        assert link.group(1) == "https://harbor-relief.org/winter?ref=nl"
        assert link.group(2) == "Back to harbor-relief.org"

    async def test_another_site_is_dropped_at_checkout(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        url, _ = await self._give(client, database, stripe_double, "https://evil.example/phish")

        assert "return_to" not in parse_qs(urlsplit(url).query)
        assert 'id="return-link"' not in (await client.get(url)).text

    async def test_an_edited_thank_you_address_is_checked_again(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        url, _ = await self._give(client, database, stripe_double, "https://harbor-relief.org/winter")
        edited = url.replace(
            "return_to=https%3A%2F%2Fharbor-relief.org%2Fwinter", "return_to=https%3A%2F%2Fevil.example%2F"
        )
        assert edited != url

        page = (await client.get(edited)).text

        assert "Thank you!" in page
        assert 'id="return-link"' not in page and 'href="https://evil.example' not in page

    async def test_a_form_error_keeps_the_address_for_the_next_try(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database, allowed_embed_origins=["https://harbor-relief.org"])

        response = await donate_form(
            client, campaign["slug"], return_to="https://harbor-relief.org/w?a=1&b=2"
        )

        assert response.status_code == 422
        assert '<input type="hidden" name="return_to" value="https://harbor-relief.org/w?a=1&amp;b=2">' in (
            response.text
        )

    async def test_no_embed_no_way_back(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        url, _ = await self._give(client, database, stripe_double, "")

        assert "return_to" not in url
        assert 'id="return-link"' not in (await client.get(url)).text
