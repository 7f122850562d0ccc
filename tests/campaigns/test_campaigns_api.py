from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from service.db import Database
from tests import builders


def parse_elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every element the browser would build from html, with its attributes."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collector().feed(html)
    return found


@pytest.fixture
async def org(client: httpx.AsyncClient) -> builders.Org:
    return await builders.sign_up(client)


@pytest.fixture
async def verified_org(client: httpx.AsyncClient, database: Database) -> builders.Org:
    org = await builders.sign_up(client)
    admin = await builders.insert_admin(database)
    await builders.verify(client, admin, org)
    return org


class TestCreateCampaign:
    async def test_create_returns_draft_with_rendered_story(
        self, client: httpx.AsyncClient, org: builders.Org
    ) -> None:
        response = await client.post(
            "/api/v1/campaigns", json=builders.campaign_payload(slug="coats"), headers=org.headers
        )

        assert response.status_code == 201
        body = response.json()
        assert (body["slug"], body["status"]) == ("coats", "draft")
        assert body["story_html"] == "<p>Every child deserves a <strong>warm</strong> coat.</p>\n"
        assert body["public_url"] == "http://testserver/c/coats"
        assert body["min_amount_minor"] == 50  # Stripe's EUR minimum by default

    async def test_currency_is_normalised_and_checked_against_stripe(
        self, client: httpx.AsyncClient, org: builders.Org
    ) -> None:
        ok = await client.post(
            "/api/v1/campaigns",
            json=builders.campaign_payload(
                currency="JPY", goal_minor=500_000, suggested_amounts_minor=[1000]
            ),
            headers=org.headers,
        )
        bad = await client.post(
            "/api/v1/campaigns", json=builders.campaign_payload(currency="xyz"), headers=org.headers
        )

        assert ok.status_code == 201
        assert ok.json()["currency"] == "jpy"
        assert bad.status_code == 422
        assert "currency" in bad.json()["fields"]

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"goal_minor": 12.5}, "goal_minor"),
            ({"goal_minor": "5000"}, "goal_minor"),
            ({"goal_minor": 0}, "goal_minor"),
            ({"goal_minor": True}, "goal_minor"),
            ({"goal_minor": 10**19}, "goal_minor"),
            ({"currency": "kwd", "goal_minor": 12345, "suggested_amounts_minor": []}, "goal_minor"),
            ({"min_amount_minor": 10}, "min_amount_minor"),
            (
                {"min_amount_minor": 5000, "max_amount_minor": 1000, "suggested_amounts_minor": []},
                "max_amount_minor",
            ),
            ({"suggested_amounts_minor": [100, 100]}, "suggested_amounts_minor"),
            ({"max_amount_minor": 2000}, "suggested_amounts_minor"),
            ({"slug": "Bad Slug!"}, "slug"),
            ({"slug": "admin"}, "slug"),
            ({"starts_at": "2027-01-02T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"}, "ends_at"),
            ({"starts_at": "2027-01-02T00:00:00"}, "starts_at"),
            ({"cover_image_url": "http://insecure.example.org/a.png"}, "cover_image_url"),
            ({"allowed_embed_origins": ["https://ok.org/path"]}, "allowed_embed_origins.0"),
            ({"allowed_embed_origins": ["http://plain.org"]}, "allowed_embed_origins.0"),
        ],
    )
    async def test_bad_input_is_422_next_to_the_field_and_writes_nothing(
        self, client: httpx.AsyncClient, org: builders.Org, overrides: dict[str, Any], field: str
    ) -> None:
        response = await client.post(
            "/api/v1/campaigns", json=builders.campaign_payload(**overrides), headers=org.headers
        )

        assert response.status_code == 422, response.text
        assert field in response.json()["fields"]
        listed = await client.get("/api/v1/campaigns", headers=org.headers)
        assert listed.json()["data"] == []

    async def test_zero_decimal_currency_takes_whole_units(
        self, client: httpx.AsyncClient, org: builders.Org
    ) -> None:
        response = await client.post(
            "/api/v1/campaigns",
            json=builders.campaign_payload(
                currency="jpy", goal_minor=1_000_000, suggested_amounts_minor=[500, 1000]
            ),
            headers=org.headers,
        )

        assert response.status_code == 201
        assert response.json()["goal_minor"] == 1_000_000
        assert response.json()["min_amount_minor"] == 50

    async def test_slug_must_be_unique_across_nonprofits(
        self, client: httpx.AsyncClient, org: builders.Org
    ) -> None:
        other = await builders.sign_up(client)
        await builders.create_campaign(client, org, slug="shared-slug")

        response = await client.post(
            "/api/v1/campaigns", json=builders.campaign_payload(slug="shared-slug"), headers=other.headers
        )

        assert response.status_code == 409
        assert response.json()["error"] == "slug_taken"

    async def test_story_is_sanitised(self, client: httpx.AsyncClient, org: builders.Org) -> None:
        story = (
            "<script>alert(1)</script>\n\n[click](javascript:alert(1)) "
            '<img src=x onerror="alert(1)"> [ok](https://example.org)'
        )

        body = await builders.create_campaign(client, org, story=story)

        html = body["story_html"]
        elements = parse_elements(html)
        assert "script" not in [tag for tag, _ in elements]
        assert not [name for _, attrs in elements for name, _ in attrs if name.startswith("on")]
        assert not [
            v for _, attrs in elements for _, v in attrs if v and v.strip().lower().startswith("javascript")
        ]
        assert '<a href="https://example.org" rel="noopener noreferrer nofollow ugc">ok</a>' in html


class TestListCampaigns:
    async def test_pages_through_all_campaigns_once(
        self, client: httpx.AsyncClient, org: builders.Org
    ) -> None:
        created = [await builders.create_campaign(client, org) for _ in range(5)]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/api/v1/campaigns", params=params, headers=org.headers)).json()
            seen += [c["id"] for c in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert seen == [c["id"] for c in created]

    async def test_filters_by_status(self, client: httpx.AsyncClient, org: builders.Org) -> None:
        draft = await builders.create_campaign(client, org)
        archived = await builders.create_campaign(client, org)
        await client.post(f"/api/v1/campaigns/{archived['id']}/archive", headers=org.headers)

        page = await client.get("/api/v1/campaigns", params={"status": "draft"}, headers=org.headers)

        assert [c["id"] for c in page.json()["data"]] == [draft["id"]]

    @pytest.mark.parametrize(
        "params", [{"limit": "0"}, {"limit": "abc"}, {"status": "nope"}, {"cursor": "!!"}]
    )
    async def test_bad_query_is_a_4xx(
        self, client: httpx.AsyncClient, org: builders.Org, params: dict[str, str]
    ) -> None:
        response = await client.get("/api/v1/campaigns", params=params, headers=org.headers)

        assert response.status_code in (400, 422)

    async def test_a_repeated_query_parameter_is_refused(
        self, client: httpx.AsyncClient, org: builders.Org
    ) -> None:
        response = await client.get("/api/v1/campaigns?limit=1&limit=50", headers=org.headers)

        assert response.status_code == 422
        assert response.json()["fields"] == {"limit": "give this parameter once"}

    async def test_forged_cursor_is_a_400(self, client: httpx.AsyncClient, org: builders.Org) -> None:
        response = await client.get("/api/v1/campaigns", params={"cursor": "Zm9vYmFy"}, headers=org.headers)

        assert response.status_code == 400
        assert response.json()["error"] == "invalid_cursor"


class TestUpdateCampaign:
    async def test_patch_changes_only_given_fields(
        self, client: httpx.AsyncClient, org: builders.Org
    ) -> None:
        campaign = await builders.create_campaign(client, org, max_amount_minor=100_000)

        response = await client.patch(
            f"/api/v1/campaigns/{campaign['id']}",
            json={"title": "Warm coats", "story": "# New", "max_amount_minor": None},
            headers=org.headers,
        )

        assert response.status_code == 200
        body = response.json()
        assert (body["title"], body["story_html"], body["max_amount_minor"]) == (
            "Warm coats",
            "<h1>New</h1>\n",
            None,
        )
        assert body["goal_minor"] == campaign["goal_minor"]

    async def test_patch_checks_rules_on_the_merged_result(
        self, client: httpx.AsyncClient, org: builders.Org
    ) -> None:
        campaign = await builders.create_campaign(client, org, starts_at="2027-03-01T00:00:00Z")

        response = await client.patch(
            f"/api/v1/campaigns/{campaign['id']}",
            json={"ends_at": "2027-02-01T00:00:00Z"},
            headers=org.headers,
        )

        assert response.status_code == 422
        assert "ends_at" in response.json()["fields"]

    async def test_required_fields_cannot_be_nulled(
        self, client: httpx.AsyncClient, org: builders.Org
    ) -> None:
        campaign = await builders.create_campaign(client, org)

        response = await client.patch(
            f"/api/v1/campaigns/{campaign['id']}", json={"title": None}, headers=org.headers
        )

        assert response.status_code == 422
        assert "title" in response.json()["fields"]

    async def test_content_is_locked_once_live_but_goal_can_change(
        self, client: httpx.AsyncClient, database: Database, verified_org: builders.Org
    ) -> None:
        admin = await builders.insert_admin(database)
        campaign = await builders.live_campaign(client, verified_org, admin)

        story = await client.patch(
            f"/api/v1/campaigns/{campaign['id']}", json={"story": "swapped"}, headers=verified_org.headers
        )
        goal = await client.patch(
            f"/api/v1/campaigns/{campaign['id']}", json={"goal_minor": 900_000}, headers=verified_org.headers
        )

        assert story.status_code == 409
        assert story.json()["error"] == "field_locked"
        assert goal.status_code == 200
        assert goal.json()["goal_minor"] == 900_000
        assert goal.json()["story"] == campaign["story"]


class TestStatusMachine:
    async def test_pending_nonprofit_cannot_submit(
        self, client: httpx.AsyncClient, org: builders.Org
    ) -> None:
        campaign = await builders.create_campaign(client, org)

        response = await client.post(f"/api/v1/campaigns/{campaign['id']}/submit", headers=org.headers)

        assert response.status_code == 409
        assert response.json()["error"] == "nonprofit_not_verified"

    async def test_full_lifecycle(
        self, client: httpx.AsyncClient, database: Database, verified_org: builders.Org
    ) -> None:
        admin = await builders.insert_admin(database)
        campaign = await builders.live_campaign(client, verified_org, admin)
        path = f"/api/v1/campaigns/{campaign['id']}"
        statuses = []
        for action in ("pause", "resume", "end", "archive"):
            response = await client.post(f"{path}/{action}", headers=verified_org.headers)
            assert response.status_code == 200, response.text
            statuses.append(response.json()["status"])

        assert campaign["status"] == "live"
        assert statuses == ["paused", "live", "ended", "archived"]

    @pytest.mark.parametrize("action", ["pause", "resume", "end", "withdraw"])
    async def test_illegal_transitions_from_draft_are_409(
        self, client: httpx.AsyncClient, org: builders.Org, action: str
    ) -> None:
        campaign = await builders.create_campaign(client, org)

        response = await client.post(f"/api/v1/campaigns/{campaign['id']}/{action}", headers=org.headers)

        assert response.status_code == 409
        assert response.json()["error"] == "illegal_transition"
        current = await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=org.headers)
        assert current.json()["status"] == "draft"

    async def test_campaign_in_review_cannot_be_edited_until_withdrawn(
        self, client: httpx.AsyncClient, verified_org: builders.Org
    ) -> None:
        campaign = await builders.create_campaign(client, verified_org)
        path = f"/api/v1/campaigns/{campaign['id']}"
        await client.post(f"{path}/submit", headers=verified_org.headers)

        locked = await client.patch(path, json={"title": "x y z"}, headers=verified_org.headers)
        withdrawn = await client.post(f"{path}/withdraw", headers=verified_org.headers)
        edited = await client.patch(path, json={"title": "x y z"}, headers=verified_org.headers)

        assert locked.status_code == 409
        assert withdrawn.json()["status"] == "draft"
        assert edited.status_code == 200
