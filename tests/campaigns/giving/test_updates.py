"""Campaign updates: the API (members only, tenant-isolated), sanitising, the keyword screen,
the public list, the campaign page and the dashboard form."""

from __future__ import annotations

import httpx

from service.db import Database
from service.settings import Settings
from tests import builders
from tests.campaigns.dashboard.helpers import log_in, submit
from tests.campaigns.giving.helpers import live
from tests.campaigns.giving.wall_helpers import give


async def _post(
    client: httpx.AsyncClient, campaign: dict[str, object], org: builders.Org, **body: object
) -> httpx.Response:
    return await client.post(f"/api/v1/campaigns/{campaign['id']}/updates", json=body, headers=org.headers)


class TestUpdatesApi:
    async def test_post_list_and_delete(self, client: httpx.AsyncClient, database: Database) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]

        first = await _post(client, campaign, org, title="First coats", body="We bought **100** coats.")
        second = await _post(client, campaign, org, body="And hats.")
        listed = await client.get(f"/api/v1/campaigns/{campaign['id']}/updates", headers=org.headers)
        deleted = await client.delete(
            f"/api/v1/campaigns/{campaign['id']}/updates/{first.json()['id']}", headers=org.headers
        )
        after = await client.get(f"/api/v1/campaigns/{campaign['id']}/updates", headers=org.headers)

        assert first.status_code == 201 and first.json()["status"] == "published"
        assert "<strong>100</strong>" in first.json()["body_html"]
        assert [u["id"] for u in listed.json()["data"]] == [second.json()["id"], first.json()["id"]]
        assert deleted.status_code == 204
        assert [u["id"] for u in after.json()["data"]] == [second.json()["id"]]

    async def test_script_and_javascript_links_are_sanitised(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]

        response = await _post(
            client,
            campaign,
            org,
            body=(
                "<script>alert(1)</script>\n\n[click](javascript:alert(1)) <img src=x onerror=alert(1)>"
                '\n\n[ok](https://example.org) <a href="javascript:alert(2)">x</a>'
            ),
        )
        body_html = response.json()["body_html"]
        page = (await client.get(f"/c/{campaign['slug']}")).text

        assert response.status_code == 201
        # Raw HTML is text, never markup; a javascript: link is never an href.
        assert "<script" not in body_html and "<img" not in body_html
        assert '<a href="javascript' not in body_html and "&lt;script&gt;" in body_html
        assert '<a href="https://example.org" rel="noopener noreferrer nofollow ugc">ok</a>' in body_html
        assert "<script>alert(1)" not in page and '<a href="javascript' not in page

    async def test_flagged_update_is_held_and_not_public(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]

        held = await _post(client, campaign, org, body="Please send money to our Western Union account")
        public = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/updates")

        assert held.status_code == 201
        assert held.json()["status"] == "held" and "western union" in held.json()["flags"]
        assert public.json()["data"] == []

    async def test_a_moderator_publishes_a_held_update(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]
        admin: builders.AdminUser = campaign["_admin"]
        held = (await _post(client, campaign, org, body="Our raffle winners are announced")).json()

        queue = await client.get("/api/v1/admin/campaign-updates/held", headers=admin.headers)
        refused = await client.post(
            f"/api/v1/admin/campaign-updates/{held['id']}/publish", json={}, headers=org.headers
        )
        published = await client.post(
            f"/api/v1/admin/campaign-updates/{held['id']}/publish",
            json={"note": "a charity raffle, fine"},
            headers=admin.headers,
        )
        public = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/updates")

        assert [u["id"] for u in queue.json()["data"]] == [held["id"]] and held["flags"] == ["raffle"]
        assert refused.status_code in (401, 403)
        assert published.status_code == 200 and published.json()["status"] == "published"
        assert [u["id"] for u in public.json()["data"]] == [held["id"]]

    async def test_body_is_required_and_at_most_5000_characters(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]

        empty = await _post(client, campaign, org, body="   ")
        too_long = await _post(client, campaign, org, body="x" * 5001)

        assert empty.status_code == 422 and "body" in empty.json()["fields"]
        assert too_long.status_code == 422 and "body" in too_long.json()["fields"]

    async def test_other_tenant_gets_404(self, client: httpx.AsyncClient, database: Database) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]
        posted = await _post(client, campaign, org, body="Ours.")
        other = await builders.sign_up(client)

        post = await _post(client, campaign, other, body="Not yours.")
        listed = await client.get(f"/api/v1/campaigns/{campaign['id']}/updates", headers=other.headers)
        deleted = await client.delete(
            f"/api/v1/campaigns/{campaign['id']}/updates/{posted.json()['id']}", headers=other.headers
        )
        mine = await client.get(f"/api/v1/campaigns/{campaign['id']}/updates", headers=org.headers)

        assert (post.status_code, listed.status_code, deleted.status_code) == (404, 404, 404)
        assert len(mine.json()["data"]) == 1

    async def test_without_credentials_is_401(self, client: httpx.AsyncClient, database: Database) -> None:
        campaign = await live(client, database)

        response = await client.post(f"/api/v1/campaigns/{campaign['id']}/updates", json={"body": "Hi"})

        assert response.status_code == 401

    async def test_public_list_is_paged_newest_first_and_cacheable(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]
        for i in range(3):
            await _post(client, campaign, org, title=f"Update {i}", body=f"Body {i}")

        first = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/updates?limit=2")
        rest = await client.get(
            f"/api/v1/public/campaigns/{campaign['slug']}/updates?limit=2&cursor={first.json()['next_cursor']}"
        )
        missing = await client.get("/api/v1/public/campaigns/no-such-campaign/updates")

        assert [u["title"] for u in first.json()["data"]] == ["Update 2", "Update 1"]
        assert [u["title"] for u in rest.json()["data"]] == ["Update 0"] and rest.json()[
            "next_cursor"
        ] is None
        assert first.headers["cache-control"].startswith("public")
        assert "body" not in first.json()["data"][0] and "status" not in first.json()["data"][0]
        assert missing.status_code == 404


class TestUpdatesOnPages:
    async def test_campaign_page_shows_the_latest_three_and_links_to_all(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]
        for i in range(4):
            await _post(client, campaign, org, title=f"News {i}", body=f"Text {i}")

        page = (await client.get(f"/c/{campaign['slug']}")).text
        all_updates = (await client.get(f"/c/{campaign['slug']}/updates")).text

        assert "News 3" in page and "News 1" in page and "News 0" not in page
        assert page.index("News 3") < page.index("News 2")
        assert f'href="/c/{campaign["slug"]}/updates"' in page
        assert "News 0" in all_updates

    async def test_dashboard_form_posts_an_update(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]
        await log_in(client, org.email)
        url = f"/dashboard/campaigns/{campaign['id']}/updates"

        posted = await submit(client, url, {"title": "From the dashboard", "body": "It *works*."}, page=url)
        refused = await submit(client, url, {"body": ""}, page=url)
        no_csrf = await client.post(url, data={"body": "forged"})
        listed = await client.get(f"/api/v1/public/campaigns/{campaign['slug']}/updates")

        assert posted.status_code == 303
        assert refused.status_code == 422 and 'id="body-error"' in refused.text
        assert no_csrf.status_code == 403
        assert [u["title"] for u in listed.json()["data"]] == ["From the dashboard"]


class TestMessagesDashboard:
    async def test_messages_page_hides_and_shows_a_message(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        campaign = await live(client, database)
        org: builders.Org = campaign["_org"]
        out = await give(client, database, settings, campaign["slug"], name="Kim", message="Send money to me")
        await log_in(client, org.email)
        url = f"/dashboard/campaigns/{campaign['id']}/messages"

        page = await client.get(url + "?status=pending")
        shown = await submit(client, f"{url}/{out['donation_id']}/show", page=url)
        wall_after_show = (await client.get(f"/c/{campaign['slug']}/supporters")).text
        hidden = await submit(client, f"{url}/{out['donation_id']}/hide", page=url)
        wall_after_hide = (await client.get(f"/c/{campaign['slug']}/supporters")).text

        assert page.status_code == 200 and "Send money to me" in page.text and "send money to" in page.text
        assert shown.status_code == 303 and "Send money to me" in wall_after_show
        assert hidden.status_code == 303 and "Send money to me" not in wall_after_hide

    async def test_other_tenant_cannot_open_the_messages_page(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await live(client, database)
        other = await builders.sign_up(client)
        await log_in(client, other.email)

        response = await client.get(f"/dashboard/campaigns/{campaign['id']}/messages")

        assert response.status_code == 404
