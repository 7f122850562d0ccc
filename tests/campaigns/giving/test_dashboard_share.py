"""Dashboard share kit: snippets, QR code, channel links with visit counts."""

from __future__ import annotations

import re

import httpx
import segno  # noqa: F401 - the dependency the QR code needs must be installed

from service.db import Database
from tests import builders
from tests.campaigns.dashboard.helpers import log_in, submit
from tests.campaigns.giving.helpers import live


class TestShareKit:
    async def test_detail_page_shows_link_iframe_and_button_snippets(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database, allowed_embed_origins=["https://harbor-relief.org"])
        org: builders.Org = campaign["_org"]
        await log_in(client, org.email)

        page = (await client.get(f"/dashboard/campaigns/{campaign['id']}")).text

        slug = campaign["slug"]
        assert f'value="http://testserver/c/{slug}"' in page
        assert f"&lt;iframe src=&#34;http://testserver/embed/{slug}&#34;" in page
        assert "http://testserver/embed.js" in page and f"data-goodloop=&#34;{slug}&#34;" in page
        # What the pasted frame needs to send the donor to Checkout, and the button's theme.
        assert "allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation" in page
        assert "data-goodloop-color=&#34;#0b7a5a&#34;" in page and "data-goodloop-size=&#34;medium" in page
        assert f'src="/dashboard/campaigns/{campaign["id"]}/qr.svg"' in page

    async def test_qr_code_is_an_svg_for_members_only(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        path = f"/dashboard/campaigns/{campaign['id']}/qr.svg"
        assert (await client.get(path)).status_code == 303  # to the login page

        await log_in(client, campaign["_org"].email)
        response = await client.get(path)

        assert response.status_code == 200
        assert response.headers["content-type"] == "image/svg+xml"
        assert response.text.startswith("<svg") and "<path" in response.text

    async def test_channel_link_is_created_and_counts_visits(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        await log_in(client, campaign["_org"].email)
        detail = f"/dashboard/campaigns/{campaign['id']}"

        created = await submit(client, f"{detail}/share-links", {"channel": "tiktok"}, page=detail)
        assert created.status_code == 303
        page = (await client.get(detail)).text
        match = re.search(
            r"<td>TikTok</td><td class=\"break\">http://testserver/s/([A-Za-z0-9_-]+)</td><td>0</td>", page
        )
        assert match is not None, page
        await client.get(f"/s/{match.group(1)}", headers={"user-agent": "Mozilla/5.0 (X11; Linux x86_64)"})

        page = (await client.get(detail)).text

        assert f"/s/{match.group(1)}</td><td>1</td>" in page

    async def test_unknown_channel_is_refused(self, client: httpx.AsyncClient, database: Database) -> None:
        campaign = await live(client, database)
        await log_in(client, campaign["_org"].email)
        detail = f"/dashboard/campaigns/{campaign['id']}"

        await submit(client, f"{detail}/share-links", {"channel": "myspace"}, page=detail)

        page = (await client.get(detail)).text
        assert "Choose a channel" in page
        assert "No channel links yet." in page

    async def test_another_organisation_cannot_add_links(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        other = await builders.sign_up(client)
        await log_in(client, other.email)

        response = await submit(
            client,
            f"/dashboard/campaigns/{campaign['id']}/share-links",
            {"channel": "email"},
            page="/dashboard",
        )

        assert response.status_code == 404
