"""The match review queue page: each filter narrows the queue, pages are stable, roles are respected."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass

import httpx
import pytest

from campaigns.console.review_repository import QueueFilters, Scan, review_queue
from campaigns.matching.models import Match, MatchStatus
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import Settings
from tests.campaigns.matching.helpers import World, make_program, make_world
from tests.console.helpers import signed_in_admin
from tests.console.review_builders import backdate, end_holds, held_gift, ids_in, reload_match, tune_signal


@dataclass
class Queue:
    world: World
    spring_program: uuid.UUID
    campaign_c: uuid.UUID
    big: Match
    small: Match
    other_program: Match
    older: Match
    device: Match
    first_device: Match

    @property
    def held(self) -> list[Match]:
        return [self.big, self.other_program, self.older, self.device, self.first_device]

    @property
    def everything(self) -> list[Match]:
        return [*self.held, self.small]


@pytest.fixture
async def queue(client: httpx.AsyncClient, database: Database, settings: Settings) -> Queue:
    world = await make_world(client, database, settings)
    second = await make_world(client, database, settings)
    third = await make_world(client, database, settings)
    winter = [str(world.campaign.id), str(third.campaign.id)]
    await make_program(world, hold_days=0, review_threshold_minor=1_000, campaign_ids=winter)
    spring = await make_program(
        world,
        name="Spring match",
        hold_days=0,
        review_threshold_minor=1_000,
        campaign_ids=[str(second.campaign.id)],
    )
    await tune_signal(world, "shared_device", threshold=1)
    big = await held_gift(world, amount_minor=2_000)
    small = await held_gift(world, amount_minor=500)
    other_program = await held_gift(world, amount_minor=3_000, campaign=second.campaign)
    older = await held_gift(world, amount_minor=5_000, campaign=third.campaign)
    first_device = await held_gift(world, amount_minor=800, device="shared-browser")
    device = await held_gift(world, amount_minor=800, device="shared-browser")
    await end_holds(world)
    await backdate(database, older.id, days=5)
    found = Queue(
        world=world,
        spring_program=spring,
        campaign_c=third.campaign.id,
        big=await reload_match(database, big.id),
        small=await reload_match(database, small.id),
        other_program=await reload_match(database, other_program.id),
        older=await reload_match(database, older.id),
        device=await reload_match(database, device.id),
        first_device=await reload_match(database, first_device.id),
    )
    assert [m.status for m in found.held] == [MatchStatus.HELD_FOR_REVIEW] * 5
    assert found.small.status is MatchStatus.APPROVED
    return found


async def shown(client: httpx.AsyncClient, queue: Queue, query: str = "") -> set[uuid.UUID]:
    response = await client.get(f"/admin/matches{query}")
    assert response.status_code == 200, response.text
    return ids_in(response.text, queue.everything)


class TestFilters:
    async def test_the_queue_shows_held_matches_by_default(
        self, client: httpx.AsyncClient, queue: Queue
    ) -> None:
        await signed_in_admin(client, queue.world.database)
        assert await shown(client, queue) == {m.id for m in queue.held}
        assert await shown(client, queue, "?status=approved") == {queue.small.id}
        assert await shown(client, queue, "?status=all") == {m.id for m in queue.everything}

    async def test_program_filter(self, client: httpx.AsyncClient, queue: Queue) -> None:
        await signed_in_admin(client, queue.world.database)
        assert await shown(client, queue, f"?program_id={queue.spring_program}") == {queue.other_program.id}

    async def test_campaign_filter(self, client: httpx.AsyncClient, queue: Queue) -> None:
        await signed_in_admin(client, queue.world.database)
        assert await shown(client, queue, f"?campaign_id={queue.campaign_c}") == {queue.older.id}

    async def test_risk_filters_by_signal_and_by_weight(
        self, client: httpx.AsyncClient, queue: Queue
    ) -> None:
        await signed_in_admin(client, queue.world.database)
        assert await shown(client, queue, "?signal=shared_device") == {queue.device.id, queue.first_device.id}
        # The approved match carries only the probation signal (40): a minimum of 100 leaves it out.
        assert queue.small.id in await shown(client, queue, "?status=all&min_weight=40")
        assert queue.small.id not in await shown(client, queue, "?status=all&min_weight=100")

    async def test_amount_range_is_typed_in_major_units(
        self, client: httpx.AsyncClient, queue: Queue
    ) -> None:
        await signed_in_admin(client, queue.world.database)
        # 25.00 to 40.00 EUR: the 30.00 match only (not 20.00, 8.00 or 50.00).
        assert await shown(client, queue, "?min_amount=25&max_amount=40") == {queue.other_program.id}
        assert await shown(client, queue, "?min_amount=20.00&max_amount=20") == {queue.big.id}

    async def test_age_filter(self, client: httpx.AsyncClient, queue: Queue) -> None:
        await signed_in_admin(client, queue.world.database)
        assert await shown(client, queue, "?older_than_days=3") == {queue.older.id}

    async def test_a_bad_filter_value_is_shown_next_to_its_field(
        self, client: httpx.AsyncClient, queue: Queue
    ) -> None:
        await signed_in_admin(client, queue.world.database)
        response = await client.get("/admin/matches?min_amount=ten&older_than_days=-1")
        assert response.status_code == 422
        assert 'id="min_amount-error"' in response.text
        assert 'id="older_than_days-error"' in response.text
        # The bad values narrow nothing: the held matches are all still listed.
        assert ids_in(response.text, queue.everything) == {m.id for m in queue.held}

    async def test_rows_say_what_a_reviewer_needs(self, client: httpx.AsyncClient, queue: Queue) -> None:
        await signed_in_admin(client, queue.world.database)
        page = (await client.get(f"/admin/matches?campaign_id={queue.campaign_c}")).text
        row = page[page.index(f'id="match-{queue.older.id}"') :]
        row = row[: row.index("</tr>")]
        assert "€50.00" in row
        assert "amount_above_threshold" in row and "new_nonprofit" in row
        assert ">140<" in row  # total weight
        assert "5 d" in row
        assert "0 / 2" in row  # approvals so far / required

    async def test_the_export_link_carries_the_filters(self, client: httpx.AsyncClient, queue: Queue) -> None:
        await signed_in_admin(client, queue.world.database)
        page = (
            await client.get(f"/admin/matches?program_id={queue.spring_program}&status=held_for_review")
        ).text
        assert (
            f'href="/admin/exports/matches.csv?status=held_for_review&amp;program_id={queue.spring_program}"'
            in page
        )

    async def test_the_export_link_downloads_the_filtered_matches(
        self, client: httpx.AsyncClient, queue: Queue
    ) -> None:
        await signed_in_admin(client, queue.world.database)
        page = (await client.get(f"/admin/matches?campaign_id={queue.campaign_c}&older_than_days=3")).text
        link = re.search(r'id="export-matches" href="([^"]+)"', page)
        assert link is not None
        response = await client.get(html.unescape(link.group(1)))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert str(queue.older.id) in response.text
        assert str(queue.big.id) not in response.text


class TestPaging:
    async def test_pages_walk_the_queue_oldest_first_without_gaps(self, queue: Queue) -> None:
        seen: list[Match] = []
        cursor = None
        async with queue.world.database.transaction() as session:
            for _ in range(10):
                page = await review_queue(
                    session, filters=QueueFilters(), limit=2, cursor=cursor, now=utcnow()
                )
                seen += [row.match for row in page.rows]
                cursor = page.next_cursor
                if cursor is None:
                    break
        assert sorted(m.id for m in seen) == sorted(m.id for m in queue.held)
        assert [(m.created_at, m.id) for m in seen] == sorted((m.created_at, m.id) for m in seen)

    async def test_a_risk_filter_that_runs_out_of_budget_carries_on_next_page(self, queue: Queue) -> None:
        tight = Scan(batch=1, budget=2)
        filters = QueueFilters(signal="shared_device")
        seen: list[Match] = []
        exhausted_pages = 0
        cursor = None
        async with queue.world.database.transaction() as session:
            for _ in range(10):
                page = await review_queue(
                    session, filters=filters, limit=5, cursor=cursor, now=utcnow(), scan=tight
                )
                seen += [row.match for row in page.rows]
                exhausted_pages += page.scan_exhausted
                cursor = page.next_cursor
                if cursor is None:
                    break
        assert sorted(m.id for m in seen) == sorted([queue.device.id, queue.first_device.id])
        assert exhausted_pages >= 1


class TestAccess:
    async def test_signed_out_visitors_go_to_the_login_page(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/admin/matches")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login")

    async def test_finance_reads_the_queue_without_decision_controls(
        self, client: httpx.AsyncClient, queue: Queue
    ) -> None:
        await signed_in_admin(client, queue.world.database, role=AdminRole.FINANCE)
        response = await client.get("/admin/matches")
        assert response.status_code == 200
        assert ids_in(response.text, queue.everything) == {m.id for m in queue.held}
        assert 'id="bulk-approve"' not in response.text
        assert 'name="match_id"' not in response.text
