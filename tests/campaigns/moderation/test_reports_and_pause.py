"""Moderators' levers on campaigns: pausing (donations and matches stop at once, only a
moderator resumes), donor reports from the public page, and the keyword screen."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
import sqlalchemy as sa

from campaigns.moderation.models import CampaignReport
from campaigns.moderation.screen import screen, screen_campaign
from service import audit
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from tests.builders import AdminUser, Org, insert_admin, live_campaign, sign_up, verify
from tests.campaigns.matching.helpers import World, give, make_program, make_world, matches_for


@pytest.fixture
async def setup(client: httpx.AsyncClient, database: Database) -> tuple[Org, AdminUser, dict[str, str]]:
    org = await sign_up(client)
    reviewer = await insert_admin(database)
    await verify(client, reviewer, org)
    campaign = await live_campaign(client, org, reviewer)
    return org, reviewer, campaign


async def checkout(client: httpx.AsyncClient, slug: str) -> httpx.Response:
    return await client.post(
        f"/api/v1/public/campaigns/{slug}/checkout", json={"amount_minor": 2500, "currency": "eur"}
    )


class TestModeratorPause:
    async def test_pause_stops_donations_and_only_a_moderator_resumes(
        self, client: httpx.AsyncClient, database: Database, setup: tuple[Org, AdminUser, dict[str, str]]
    ) -> None:
        org, reviewer, campaign = setup
        cid = campaign["id"]

        no_reason = await client.post(
            f"/api/v1/admin/campaigns/{cid}/pause", json={}, headers=reviewer.headers
        )
        paused = await client.post(
            f"/api/v1/admin/campaigns/{cid}/pause",
            json={"reason": "Donor reports of a fake story; checking with the nonprofit."},
            headers=reviewer.headers,
        )
        refused = await checkout(client, campaign["slug"])
        own_resume = await client.post(f"/api/v1/campaigns/{cid}/resume", headers=org.headers)
        seen_by_nonprofit = await client.get(f"/api/v1/campaigns/{cid}", headers=org.headers)
        resumed = await client.post(
            f"/api/v1/admin/campaigns/{cid}/resume",
            json={"note": "Story confirmed."},
            headers=reviewer.headers,
        )

        assert no_reason.status_code == 422
        assert (paused.status_code, paused.json()["status"]) == (200, "paused")
        assert (refused.status_code, refused.json()["error"]) == (409, "donations_closed")
        assert (own_resume.status_code, own_resume.json()["error"]) == (409, "campaign_paused_by_moderator")
        assert seen_by_nonprofit.json()["admin_pause_reason"].startswith("Donor reports")
        assert (resumed.status_code, resumed.json()["status"], resumed.json()["admin_pause_reason"]) == (
            200,
            "live",
            None,
        )
        async with database.transaction() as session:
            entries = await audit.list_entries(session, subject_type="campaign", subject_id=cid)
        assert [e.action for e in entries][:2] == ["campaign.admin_resume", "campaign.admin_pause"]

    async def test_a_gift_settling_while_paused_earns_no_match_but_earlier_matches_stay(
        self, world: World
    ) -> None:
        await make_program(world)
        before = await give(world)
        reviewer = world.reviewer
        paused = await world.client.post(
            f"/api/v1/admin/campaigns/{world.campaign.id}/pause",
            json={"reason": "Under review after reports."},
            headers=reviewer.headers,
        )
        assert paused.status_code == 200, paused.text

        during = await give(world)

        assert len(await matches_for(world.database, during)) == 0
        [kept] = await matches_for(world.database, before)
        assert kept.status.value == "pending"

    async def test_only_reviewers_pause(
        self, client: httpx.AsyncClient, database: Database, setup: tuple[Org, AdminUser, dict[str, str]]
    ) -> None:
        org, _, campaign = setup
        finance = await insert_admin(database, role=AdminRole.FINANCE)
        as_finance = await client.post(
            f"/api/v1/admin/campaigns/{campaign['id']}/pause",
            json={"reason": "Looks wrong to me."},
            headers=finance.headers,
        )
        as_nonprofit = await client.post(
            f"/api/v1/admin/campaigns/{campaign['id']}/pause",
            json={"reason": "Looks wrong to me."},
            headers=org.headers,
        )
        assert as_finance.status_code == 403
        assert as_nonprofit.status_code == 401


def form_token(page: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


class TestDonorReports:
    async def test_a_report_reaches_the_moderators(
        self, client: httpx.AsyncClient, database: Database, setup: tuple[Org, AdminUser, dict[str, str]]
    ) -> None:
        _, reviewer, campaign = setup
        slug = campaign["slug"]
        campaign_page = await client.get(f"/c/{slug}")
        assert f'href="/c/{slug}/report"' in campaign_page.text
        page = await client.get(f"/c/{slug}/report")

        sent = await client.post(
            f"/c/{slug}/report",
            data={
                "form_token": form_token(page.text),
                "reason": "misleading",
                "message": "The photos are from a news story in 2019.",
                "email": "",
            },
        )

        assert sent.status_code == 200 and 'id="report-sent"' in sent.text
        listed = await client.get("/api/v1/admin/reports", headers=reviewer.headers)
        [report] = listed.json()["data"]
        assert (report["campaign_id"], report["reason"]) == (campaign["id"], "misleading")
        resolved = await client.post(
            f"/api/v1/admin/campaigns/{campaign['id']}/reports/resolve",
            json={"note": "Photos are the nonprofit's own; checked."},
            headers=reviewer.headers,
        )
        assert resolved.json() == {"resolved": 1}
        assert (await client.get("/api/v1/admin/reports", headers=reviewer.headers)).json()["data"] == []

    @pytest.mark.parametrize(
        ("data", "status", "field"),
        [
            ({"reason": "misleading", "message": "short"}, 422, "message-error"),
            ({"reason": "nonsense", "message": "A long enough message here."}, 422, "reason-error"),
            (
                {"reason": "spam", "message": "A long enough message here.", "email": "not-an-email"},
                422,
                "email-error",
            ),
        ],
    )
    async def test_bad_reports_are_refused_next_to_the_field_and_nothing_is_stored(
        self,
        client: httpx.AsyncClient,
        database: Database,
        setup: tuple[Org, AdminUser, dict[str, str]],
        data: dict[str, str],
        status: int,
        field: str,
    ) -> None:
        slug = setup[2]["slug"]
        page = await client.get(f"/c/{slug}/report")

        response = await client.post(f"/c/{slug}/report", data={"form_token": form_token(page.text), **data})

        assert response.status_code == status
        assert f'id="{field}"' in response.text
        assert await _reports(database) == 0

    async def test_a_forged_form_or_unknown_campaign_stores_nothing(
        self, client: httpx.AsyncClient, database: Database, setup: tuple[Org, AdminUser, dict[str, str]]
    ) -> None:
        slug = setup[2]["slug"]
        page = await client.get(f"/c/{slug}/report")
        body = {"reason": "spam", "message": "A long enough message here."}

        forged = await client.post(f"/c/{slug}/report", data={"form_token": "forged", **body})
        other = await client.post(
            f"/c/no-such-{uuid.uuid4().hex[:6]}/report", data={"form_token": form_token(page.text), **body}
        )

        assert forged.status_code == 403
        assert other.status_code == 403  # the token is bound to the slug it was issued for
        assert await _reports(database) == 0

    async def test_reports_are_rate_limited_per_network(
        self, client: httpx.AsyncClient, database: Database, setup: tuple[Org, AdminUser, dict[str, str]]
    ) -> None:
        slug = setup[2]["slug"]
        page = await client.get(f"/c/{slug}/report")
        body = {
            "form_token": form_token(page.text),
            "reason": "spam",
            "message": "A long enough message here.",
        }

        statuses = [(await client.post(f"/c/{slug}/report", data=body)).status_code for _ in range(7)]

        assert statuses == [200] * 5 + [429, 429]
        assert await _reports(database) == 5


async def _reports(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(CampaignReport)) or 0)


class TestKeywordScreen:
    def test_it_flags_scam_phrases_with_a_reason(self) -> None:
        flags = screen_campaign("Help us now", "Send BITCOIN or use Western  Union; a miracle cure awaits.")

        assert [(f.category, f.term) for f in flags] == [
            ("off_platform_payment", "western union"),
            ("crypto_or_investment", "bitcoin"),
            ("health_claim", "miracle cure"),
        ]
        assert all(f.sentence for f in flags)

    def test_words_inside_other_words_and_clean_stories_pass(self) -> None:
        assert screen("We cook scampi for the shelter, and btcx is not a word we use.") == []

    def test_full_width_letters_do_not_slip_past(self) -> None:
        assert [f.term for f in screen("\uff42\uff49\uff54\uff43\uff4f\uff49\uff4e donations welcome")] == [
            "bitcoin"
        ]


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)
