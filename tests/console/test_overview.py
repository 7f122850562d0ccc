"""The console overview: raised, matched by status, pools with a burn-down, backlog, dead letters."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from campaigns.console import charts
from campaigns.console.overview import age, remaining_by_day
from campaigns.matching import lifecycle
from campaigns.matching.models import MatchingProgram
from campaigns.moderation.models import CampaignReport, ReportReason
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.money import format_money
from service.settings import Settings
from tests import builders
from tests.campaigns.matching.helpers import World, give, make_program, make_world, program_row
from tests.console import helpers
from webhooks.models import WebhookEvent


async def end_holds(world: World) -> None:
    async with world.database.transaction() as session:
        await lifecycle.release_due_matches(session, now=utcnow() + timedelta(seconds=1))


async def insert_dead_event(database: Database, *, stripe_event_id: str) -> None:
    async with database.transaction() as session:
        session.add(
            WebhookEvent(
                stripe_event_id=stripe_event_id,
                type="charge.refunded",
                livemode=False,
                payload={"id": stripe_event_id},
                stripe_created_at=utcnow(),
                attempts=10,
                last_error="no donation for charge ch_<b>missing</b>",
                dead=True,
            )
        )


async def insert_report(database: Database, *, campaign_id: uuid.UUID) -> None:
    async with database.transaction() as session:
        session.add(
            CampaignReport(
                campaign_id=campaign_id, reason=ReportReason.MISLEADING, message="the story is copied"
            )
        )


def tile_value(page: str, tile_id: str) -> str:
    match = re.search(rf'id="{re.escape(tile_id)}".*?<p class="value">(.*?)</p>', page, re.S)
    assert match is not None, f"no tile {tile_id}"
    return match.group(1).strip()


def status_row(page: str, status: str) -> tuple[str, str]:
    match = re.search(
        rf'<tr data-status="{status}"><td>[^<]*</td><td class="num">([^<]*)</td><td class="num">([^<]*)</td>',
        page,
    )
    assert match is not None, f"no row for {status}"
    return match.group(1), match.group(2)


class TestOverviewPage:
    async def test_an_empty_platform_renders(self, client: httpx.AsyncClient, database: Database) -> None:
        await helpers.signed_in_admin(client, database, role=AdminRole.FINANCE)

        page = await client.get("/admin")

        assert page.status_code == 200
        assert tile_value(page.text, "backlog-held-matches") == "0"
        assert "No matches yet." in page.text
        assert "No active matching programs." in page.text
        assert 'id="no-dead-letters"' in page.text

    async def test_shows_money_backlog_pools_and_trouble(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        program_id = await make_program(world, hold_days=0, review_threshold_minor=1_000, budget_minor=50_000)
        await give(world, amount_minor=2_000)  # above the review threshold: held
        await give(world, amount_minor=500)  # below it: approved
        await end_holds(world)
        await builders.sign_up(client)  # a nonprofit waiting for verification
        await insert_report(database, campaign_id=world.campaign.id)
        await insert_dead_event(database, stripe_event_id="evt_dead_overview_1")
        program = await program_row(database, program_id)
        await helpers.signed_in_admin(client, database, role=AdminRole.REVIEWER)

        page = (await client.get("/admin")).text

        assert tile_value(page, "raised-eur-tile") == "€25.00"
        assert status_row(page, "held_for_review") == ("€20.00", "1")
        assert status_row(page, "approved") == ("€5.00", "1")
        assert tile_value(page, "backlog-held-matches") == "1"
        assert "oldest waiting 0 min" in page
        assert tile_value(page, "backlog-nonprofits") == "1"
        assert tile_value(page, "backlog-reports") == "1"
        assert tile_value(page, "backlog-dead-letters") == "1"
        assert "evt_dead_overview_1" in page
        assert "ch_&lt;b&gt;missing&lt;/b&gt;" in page
        pool = page[page.index(f'id="pool-{program_id}"') :]
        assert "€500.00" in pool  # the budget
        available = pool.split('class="pool-available">')[1]
        assert available.startswith(format_money(program.available_minor, "eur"))
        assert f'<svg class="chart" id="burn-{program_id}"' in pool
        assert '<svg class="chart" id="matched-eur"' in page
        assert '<svg class="chart" id="raised-eur"' in page
        today = utcnow().date().isoformat()
        assert f"<title>{today}: €25.00</title>" in page  # today's column of raised money
        assert f"<title>{today}: €475.00 left</title>" in pool  # the burn-down's last point


class TestBurnDown:
    def program(self, *, budget_minor: int = 10_000) -> MatchingProgram:
        return MatchingProgram(
            name="Winter <match>",
            currency="eur",
            budget_minor=budget_minor,
            starts_at=datetime(2026, 11, 1, 12, tzinfo=UTC),
            ends_at=datetime(2026, 11, 30, tzinfo=UTC),
        )

    def test_remaining_is_the_budget_less_everything_committed_so_far(self) -> None:
        committed = {date(2026, 11, 1): 1_000, date(2026, 11, 3): 500}

        series = remaining_by_day(self.program(), committed, date(2026, 11, 4))

        assert series == [
            (date(2026, 11, 1), 9_000),
            (date(2026, 11, 2), 9_000),
            (date(2026, 11, 3), 8_500),
            (date(2026, 11, 4), 8_500),
        ]

    def test_stops_at_the_end_date(self) -> None:
        series = remaining_by_day(self.program(), {}, date(2026, 12, 25))

        assert series[-1] == (date(2026, 11, 30), 10_000)
        assert len(series) == 30

    def test_a_program_not_started_has_no_days(self) -> None:
        assert remaining_by_day(self.program(), {}, date(2026, 10, 1)) == []

    def test_chart_escapes_every_text(self) -> None:
        chart = charts.burn_down(
            "Pool <left>",
            charts.BurnDown(
                budget_minor=10_000,
                start=date(2026, 11, 1),
                end=date(2026, 11, 30),
                today=date(2026, 11, 10),
                remaining_by_day=[(date(2026, 11, 1), 9_000)],
            ),
            label=lambda amount: f"<{amount}>",
            chart_id="burn-x",
        )

        assert "<left>" not in chart and "Pool &lt;left&gt;" in chart
        assert "&lt;10000&gt;" in chart
        assert "today" in chart

    def test_bars_scale_to_the_largest_value(self) -> None:
        chart = charts.horizontal_bars(
            "t",
            [charts.Bar(label="a", value=100, caption="x"), charts.Bar(label="b", value=50, caption="y")],
            chart_id="bars",
        )

        widths = [float(w) for w in re.findall(r'<rect[^>]* width="([0-9.]+)"', chart)]
        assert widths[0] == pytest.approx(2 * widths[1])


class TestAge:
    @pytest.mark.parametrize(
        ("seconds", "text"), [(59, "0 min"), (3_000, "50 min"), (7_500, "2 h 5 min"), (273_600, "3 d 4 h")]
    )
    def test_reads_like_a_person_would_say_it(self, seconds: int, text: str) -> None:
        now = datetime(2026, 11, 28, tzinfo=UTC)

        assert age(now - timedelta(seconds=seconds), now) == text
