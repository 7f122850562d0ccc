"""Bulk approval from the queue: the low-risk ones are approved, every other one is listed with why."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from campaigns.matching.models import MatchStatus
from service.db import Database
from service.settings import Settings
from tests.campaigns.matching.helpers import World, make_program, make_world
from tests.console.helpers import page_token, signed_in_admin, submit
from tests.console.review_builders import audit_actions, end_holds, held_gift, reload_match, tune_signal


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)


class TestBulkApprove:
    async def test_the_low_risk_one_is_approved_and_the_risky_ones_are_skipped_with_reasons(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await make_program(world, hold_days=0, review_threshold_minor=1_000)
        # Two gifts from one café network: each weighs 100 (burst 60 + probation 40), none alone decisive.
        await tune_signal(world, "network_burst", threshold=1)
        await tune_signal(world, "shared_device", threshold=1)
        low = await held_gift(world, amount_minor=500, network="cafe")
        untouched = await held_gift(world, amount_minor=500, network="cafe")
        large = await held_gift(world, amount_minor=2_000)
        await held_gift(world, amount_minor=600, device="one-browser")
        risky = await held_gift(world, amount_minor=600, device="one-browser")
        await end_holds(world)
        for match in (low, untouched, large, risky):
            assert (await reload_match(world.database, match.id)).status is MatchStatus.HELD_FOR_REVIEW
        admin = await signed_in_admin(client, world.database)
        queue = (await client.get("/admin/matches")).text
        for match, tagged in ((low, True), (large, False), (risky, False)):
            row = queue[queue.index(f'id="match-{match.id}"') :]
            assert ('class="status status-approved low-risk"' in row[: row.index("</tr>")]) is tagged

        form = urlencode(
            [
                ("csrf_token", await page_token(client, "/admin/matches")),
                ("match_id", str(low.id)),
                ("match_id", str(large.id)),
                ("match_id", str(risky.id)),
                ("note", "Café regulars"),
                ("status", "held_for_review"),
            ]
        )
        response = await client.post(
            "/admin/matches/bulk-approve",
            content=form,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

        assert response.status_code == 200
        page = response.text
        approved = page[page.index('id="bulk-approved"') : page.index('id="bulk-skipped"')]
        skipped = page[page.index('id="bulk-skipped"') :]
        assert f'data-match-id="{low.id}"' in approved
        assert f'data-match-id="{large.id}"' in skipped and f'data-match-id="{risky.id}"' in skipped
        assert "two admins must approve" in skipped
        assert "too strong for a bulk decision" in skipped
        assert (await reload_match(world.database, low.id)).status is MatchStatus.APPROVED
        for match in (untouched, large, risky):
            assert (await reload_match(world.database, match.id)).status is MatchStatus.HELD_FOR_REVIEW
        assert ("match.approved", admin.email, "Café regulars") in await audit_actions(
            world.database, subject_id=str(low.id)
        )
        # The re-rendered queue no longer lists the approved match.
        assert f'id="match-{low.id}"' not in page and f'id="match-{untouched.id}"' in page

    async def test_a_match_exactly_at_the_threshold_is_left_for_two_people(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await make_program(world, hold_days=0, review_threshold_minor=1_000)
        # With the amount signal off, only the two-person rule keeps the match out of a bulk approval.
        await tune_signal(world, "amount_above_threshold", weight=0)
        at = await held_gift(world, amount_minor=1_000)
        below = await held_gift(world, amount_minor=999)
        await end_holds(world)
        assert (await reload_match(world.database, at.id)).status is MatchStatus.HELD_FOR_REVIEW
        await signed_in_admin(client, world.database)
        queue = (await client.get("/admin/matches")).text
        at_row = queue[queue.index(f'id="match-{at.id}"') :]
        assert "low-risk" not in at_row[: at_row.index("</tr>")]

        form = urlencode(
            [
                ("csrf_token", await page_token(client, "/admin/matches")),
                ("match_id", str(at.id)),
                ("match_id", str(below.id)),
            ]
        )
        response = await client.post(
            "/admin/matches/bulk-approve",
            content=form,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

        assert response.status_code == 200
        skipped = response.text[response.text.index('id="bulk-skipped"') :]
        assert f'data-match-id="{at.id}"' in skipped and "two admins must approve" in skipped
        assert (await reload_match(world.database, at.id)).status is MatchStatus.HELD_FOR_REVIEW
        assert (await reload_match(world.database, below.id)).status is MatchStatus.APPROVED

    async def test_nothing_selected_is_a_message(self, client: httpx.AsyncClient, world: World) -> None:
        await signed_in_admin(client, world.database)
        response = await submit(client, "/admin/matches/bulk-approve", {"note": ""}, page="/admin/matches")
        assert response.status_code == 422
        assert 'id="bulk-error"' in response.text
