"""The nonprofit API for supporters' pages and teams (#15): reads, decisions, tenant isolation."""

from __future__ import annotations

import uuid

import httpx
import pytest

from campaigns.fundraising.models import FundraiserStatus
from service.db import Database
from service.settings import Settings
from tests.campaigns.dashboard.fundraisers_scene import Scene, build_scene
from tests.campaigns.dashboard.test_fundraisers_pages import decisions_on, status_of
from tests.campaigns.giving.conftest import app, stripe_double
from tests.mail_server import SmtpServer

__all__ = ["app", "stripe_double"]


@pytest.fixture
async def scene(
    client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
) -> Scene:
    return await build_scene(client, database, settings, smtp_server)


class TestReads:
    async def test_lists_a_campaigns_pages_newest_first_with_numbers(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        response = await client.get(
            f"/api/v1/campaigns/{scene.campaign['id']}/fundraisers", headers=scene.org.headers
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert [p["id"] for p in body["data"]] == [str(scene.runner.id), str(scene.waiting.id)]
        runner = body["data"][0]
        assert (runner["status"], runner["raised_minor"], runner["donors"], runner["currency"]) == (
            "live",
            8500,
            2,
            "eur",
        )
        assert runner["team"]["name"] == "Runners"
        assert runner["page_url"].endswith(f"/c/{scene.campaign['slug']}/f/{scene.runner.slug}")
        assert body["data"][1]["page_url"] is None  # not public while it waits
        assert body["next_offset"] is None

    async def test_filters_and_pages(self, client: httpx.AsyncClient, scene: Scene) -> None:
        url = f"/api/v1/campaigns/{scene.campaign['id']}/fundraisers"

        waiting = await client.get(url, params={"status": "pending_approval"}, headers=scene.org.headers)
        first = await client.get(url, params={"limit": 1}, headers=scene.org.headers)
        second = await client.get(url, params={"limit": 1, "offset": 1}, headers=scene.org.headers)
        bad = await client.get(url, params={"status": "sleeping"}, headers=scene.org.headers)

        assert [p["id"] for p in waiting.json()["data"]] == [str(scene.waiting.id)]
        assert (len(first.json()["data"]), first.json()["next_offset"]) == (1, 1)
        assert [p["id"] for p in second.json()["data"]] == [str(scene.waiting.id)]
        assert second.json()["next_offset"] is None
        assert bad.status_code == 422 and bad.json()["error"] == "validation_failed"

    async def test_one_page_and_the_campaigns_teams(self, client: httpx.AsyncClient, scene: Scene) -> None:
        page = await client.get(f"/api/v1/fundraisers/{scene.runner.id}", headers=scene.org.headers)
        teams = await client.get(f"/api/v1/campaigns/{scene.campaign['id']}/teams", headers=scene.org.headers)

        assert page.status_code == 200
        assert (page.json()["title"], page.json()["email"]) == (
            "Anna runs 10 km for warm coats",
            "anna@example.org",
        )
        [team] = teams.json()["data"]
        assert (team["name"], team["members"], team["raised_minor"], team["donors"]) == (
            "Runners",
            1,
            8500,
            2,
        )
        assert team["page_url"].endswith(f"/c/{scene.campaign['slug']}/t/{team['slug']}")

    async def test_a_pages_donations_oldest_first_in_pages(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        url = f"/api/v1/fundraisers/{scene.runner.id}/donations"

        everything = await client.get(url, headers=scene.org.headers)
        first = await client.get(url, params={"limit": 2}, headers=scene.org.headers)
        rest = await client.get(url, params={"limit": 2, "offset": 2}, headers=scene.org.headers)
        theirs = await client.get(
            f"/api/v1/fundraisers/{scene.other_page.id}/donations", headers=scene.org.headers
        )

        assert everything.status_code == 200
        gifts = everything.json()["data"]
        assert [g["id"] for g in gifts] == scene.gifts
        assert [(g["donor_name"], g["anonymous"], g["amount_minor"]) for g in gifts] == [
            ("Joe Bloggs", False, 2500),
            ("Joe B.", False, 1000),
            ("Secret Sam", True, 5000),
        ]
        assert [g["id"] for g in first.json()["data"]] == scene.gifts[:2] and first.json()["next_offset"] == 2
        assert [g["id"] for g in rest.json()["data"]] == scene.gifts[2:] and rest.json()[
            "next_offset"
        ] is None
        assert theirs.status_code == 404

    async def test_another_organisations_pages_and_campaigns_are_not_found(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        other_id = scene.other_page.id
        answers = [
            await client.get(f"/api/v1/fundraisers/{other_id}", headers=scene.org.headers),
            await client.get(
                f"/api/v1/campaigns/{scene.other_campaign['id']}/fundraisers", headers=scene.org.headers
            ),
            await client.get(
                f"/api/v1/campaigns/{scene.other_campaign['id']}/teams", headers=scene.org.headers
            ),
            await client.get(f"/api/v1/fundraisers/{uuid.uuid4()}", headers=scene.org.headers),
        ]

        assert [a.status_code for a in answers] == [404, 404, 404, 404]
        assert (
            answers[0].json()["error"] == answers[3].json()["error"]
        )  # the same answer as for no page at all

    async def test_without_a_key_nothing_is_read(self, client: httpx.AsyncClient, scene: Scene) -> None:
        response = await client.get(f"/api/v1/campaigns/{scene.campaign['id']}/fundraisers")

        assert response.status_code == 401


class TestDecisions:
    async def test_approve_hide_unhide_end_each_audited(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        base = f"/api/v1/fundraisers/{scene.waiting.id}"
        headers = scene.org.headers

        approved = await client.post(f"{base}/approve", headers=headers)
        hidden = await client.post(f"{base}/hide", json={"note": "Checking the photo"}, headers=headers)
        shown = await client.post(f"{base}/unhide", headers=headers)
        ended = await client.post(f"{base}/end", json={"note": "Asked by the fundraiser"}, headers=headers)

        assert [r.status_code for r in (approved, hidden, shown, ended)] == [200, 200, 200, 200]
        assert [r.json()["status"] for r in (approved, hidden, shown, ended)] == [
            "live",
            "hidden",
            "live",
            "ended",
        ]
        assert ended.json()["ended_at"] is not None and ended.json()["page_url"] is None
        assert await decisions_on(database, scene.waiting.id) == [
            ("fundraiser.approve", "api_key", None),
            ("fundraiser.hide", "api_key", "Checking the photo"),
            ("fundraiser.unhide", "api_key", None),
            ("fundraiser.end", "api_key", "Asked by the fundraiser"),
        ]

    async def test_an_impossible_move_is_409_and_changes_nothing(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        response = await client.post(
            f"/api/v1/fundraisers/{scene.runner.id}/unhide", headers=scene.org.headers
        )

        assert response.status_code == 409
        assert response.json()["error"] == "illegal_fundraiser_transition"
        assert await status_of(database, scene.runner.id) is FundraiserStatus.LIVE

    async def test_a_bad_note_is_422(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        response = await client.post(
            f"/api/v1/fundraisers/{scene.runner.id}/hide",
            json={"note": "x" * 2001},
            headers=scene.org.headers,
        )

        assert response.status_code == 422
        assert "note" in response.json()["fields"]
        assert await status_of(database, scene.runner.id) is FundraiserStatus.LIVE

    @pytest.mark.parametrize("action", ["approve", "hide", "unhide", "end"])
    async def test_another_organisations_page_cannot_be_decided(
        self, client: httpx.AsyncClient, database: Database, scene: Scene, action: str
    ) -> None:
        response = await client.post(
            f"/api/v1/fundraisers/{scene.other_page.id}/{action}", headers=scene.org.headers
        )

        assert response.status_code == 404
        assert await status_of(database, scene.other_page.id) is scene.other_page.status
        assert await decisions_on(database, scene.other_page.id) == []

    async def test_openapi_documents_every_operation(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/api/v1/openapi.json")).json()["paths"]

        assert "get" in paths["/api/v1/campaigns/{campaign_id}/fundraisers"]
        assert "get" in paths["/api/v1/campaigns/{campaign_id}/teams"]
        assert "get" in paths["/api/v1/fundraisers/{fundraiser_id}"]
        assert "get" in paths["/api/v1/fundraisers/{fundraiser_id}/donations"]
        for action in ("approve", "hide", "unhide", "end"):
            assert "post" in paths[f"/api/v1/fundraisers/{{fundraiser_id}}/{action}"]
        assert "get" in paths["/api/v1/exports/fundraisers.csv"]
        assert "get" in paths["/api/v1/exports/fundraiser-donations.csv"]
