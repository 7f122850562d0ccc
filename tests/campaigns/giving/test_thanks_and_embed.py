"""The thank-you page and its status endpoint; the embed and its framing policy."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa

from campaigns.donations.models import Donation, DonationStatus
from campaigns.sharing.models import ShareLink
from service.db import Database
from tests.campaigns.giving.helpers import live
from tests.campaigns.giving.stripe_double import StripeDouble


async def started(
    client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
) -> dict[str, Any]:
    campaign = await live(client, database)
    body = (
        await client.post(
            f"/api/v1/public/campaigns/{campaign['slug']}/checkout",
            json={"amount_minor": 2500, "currency": "eur"},
        )
    ).json()
    [call] = stripe_double.checkout_calls()
    session_id = next(iter(stripe_double.sessions))
    success = call.params["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
    return {
        "campaign": campaign,
        "donation_id": body["donation_id"],
        "success": success,
        "session_id": session_id,
    }


async def confirm(database: Database, donation_id: str) -> None:
    async with database.transaction() as session:
        await session.execute(
            sa.update(Donation)
            .where(Donation.id == uuid.UUID(donation_id))
            .values(status=DonationStatus.CONFIRMED)
        )


def status_path(success: str) -> str:
    parts = urlsplit(success)
    return f"{parts.path}/status?{parts.query}"


class TestThankYou:
    async def test_shows_processing_until_the_webhook_confirms(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        flow = await started(client, database, stripe_double)

        page = await client.get(flow["success"])
        status = await client.get(status_path(flow["success"]))

        assert page.status_code == 200
        assert "Processing your gift" in page.text
        assert 'id="refresh"' in page.text and '<script src="/static/thanks.js" defer>' in page.text
        assert page.headers["cache-control"] == "no-store"
        assert status.json() == {
            "state": "processing",
            "amount_minor": 2500,
            "fee_cover_minor": 0,
            "currency": "eur",
            "share_url": None,
            "matches": [],
            "awaiting_matches": False,
        }

    async def test_confirmed_donation_gets_thanks_amount_and_one_share_link(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        flow = await started(client, database, stripe_double)
        await confirm(database, flow["donation_id"])

        page = await client.get(flow["success"])
        again = await client.get(status_path(flow["success"]))

        assert "Thank you!" in page.text and "€25.00" in page.text
        assert "friends who give through your link unlock bonus matching" in page.text.lower()
        share_url = re.search(r'id="share-url"[^>]*>([^<]+)</textarea>', page.text)
        assert share_url is not None
        assert again.json()["state"] == "confirmed"
        assert again.json()["share_url"] == share_url.group(1)
        async with database.transaction() as session:
            links = (await session.scalars(sa.select(ShareLink))).all()
        assert len(links) == 1 and links[0].kind.value == "supporter"

    async def test_the_session_id_alone_also_identifies_the_donor(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        flow = await started(client, database, stripe_double)
        slug = flow["campaign"]["slug"]

        response = await client.get(
            f"/c/{slug}/thanks/status",
            params={"donation": flow["donation_id"], "session_id": flow["session_id"]},
        )

        assert response.status_code == 200

    async def test_status_is_not_told_without_the_token_or_the_session(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        flow = await started(client, database, stripe_double)
        slug = flow["campaign"]["slug"]
        token = parse_qs(urlsplit(flow["success"]).query)["t"][0]

        guesses = [
            {"donation": flow["donation_id"]},
            {"donation": flow["donation_id"], "t": token[:-1] + ("0" if token[-1] != "0" else "1")},
            {"donation": flow["donation_id"], "session_id": "cs_test_someone_else"},
        ]
        for params in guesses:
            response = await client.get(f"/c/{slug}/thanks/status", params=params)
            assert response.status_code == 404, params
            page = await client.get(f"/c/{slug}/thanks", params=params)
            assert page.status_code == 404


class TestEmbed:
    async def _with_origins(self, client: httpx.AsyncClient, database: Database, origins: list[str]) -> str:
        campaign = await live(client, database, allowed_embed_origins=origins)
        slug: str = campaign["slug"]
        return slug

    async def test_frame_ancestors_are_exactly_the_allowed_origins(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = await self._with_origins(
            client, database, ["https://harbor-relief.org", "https://shop.example.com"]
        )

        response = await client.get(f"/embed/{slug}")

        csp = response.headers["content-security-policy"]
        assert "frame-ancestors https://harbor-relief.org https://shop.example.com;" in csp + ";"
        assert "x-frame-options" not in response.headers
        assert 'target="_top"' in response.text

    async def test_no_allowed_origins_means_no_framing(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = await self._with_origins(client, database, [])

        response = await client.get(f"/embed/{slug}")

        assert re.search(r"frame-ancestors 'none'(;|$)", response.headers["content-security-policy"])

    async def test_campaign_page_is_never_framed_but_may_post_to_checkout(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        slug = await self._with_origins(client, database, ["https://harbor-relief.org"])

        response = await client.get(f"/c/{slug}")

        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        form_action = next(d for d in csp.split("; ") if d.startswith("form-action "))
        assert {"'self'", "https://checkout.stripe.com"} <= set(form_action.split()[1:])
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp

    async def test_pages_carry_no_inline_script_or_style(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        flow = await started(client, database, stripe_double)
        slug = flow["campaign"]["slug"]

        for path in (f"/c/{slug}", f"/embed/{slug}", flow["success"]):
            page = (await client.get(path)).text
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
            assert "<style" not in page and " style=" not in page, path

    async def test_embed_script_is_served_as_javascript(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/embed.js")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
        assert "data-goodloop" in response.text
        assert "public" in response.headers["cache-control"]

    async def test_unknown_campaign_embed_is_not_found(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/embed/not-a-campaign")).status_code == 404
