"""The dashboard's fundraiser pages (#15): list, filter, detail with gifts, decisions, CSVs."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
import sqlalchemy as sa

from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from campaigns.moderation import service as moderation
from campaigns.moderation.models import ReportReason
from service import audit
from service.db import Database
from service.settings import Settings
from tests.campaigns.dashboard import helpers
from tests.campaigns.dashboard.fundraisers_scene import Scene, build_scene
from tests.campaigns.giving.conftest import app, stripe_double
from tests.exports.builders import parse_csv
from tests.mail_server import SmtpServer

__all__ = ["app", "stripe_double"]


@pytest.fixture
async def scene(
    client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
) -> Scene:
    built = await build_scene(client, database, settings, smtp_server)
    await helpers.log_in(client, built.org.email)
    return built


async def status_of(database: Database, fundraiser_id: uuid.UUID) -> FundraiserStatus:
    async with database.transaction() as session:
        found = await session.scalar(sa.select(Fundraiser.status).where(Fundraiser.id == fundraiser_id))
    assert found is not None
    return found


async def decisions_on(database: Database, fundraiser_id: uuid.UUID) -> list[tuple[str, str, str | None]]:
    async with database.transaction() as session:
        entries = await audit.list_entries(session, subject_type="fundraiser", subject_id=str(fundraiser_id))
    return [(e.action, e.actor_type.value, e.note) for e in reversed(entries)]


def row_of(page: str, fundraiser_id: uuid.UUID) -> str:
    match = re.search(rf'<tr id="fundraiser-{fundraiser_id}".*?</tr>', page, re.S)
    assert match is not None, f"no row for {fundraiser_id}"
    return match.group(0)


class TestList:
    async def test_lists_the_campaigns_pages_with_their_numbers_and_nobody_elses(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        page = await client.get(f"/dashboard/campaigns/{scene.campaign['id']}/fundraisers")

        assert page.status_code == 200, page.text
        runner = row_of(page.text, scene.runner.id)
        assert "Anna runs 10 km for warm coats" in runner and "Anna de Vries" in runner
        assert "Runners" in runner and "Live" in runner
        assert "€85.00" in runner  # three gifts
        assert re.search(r'data-label="Donors" class="num">2<', runner)  # one card, two emails: one person
        waiting = row_of(page.text, scene.waiting.id)
        assert "Waiting for approval" in waiting and 'id="approve-' in waiting
        assert str(scene.other_page.id) not in page.text
        everything = await client.get("/dashboard/fundraisers")
        assert str(scene.runner.id) in everything.text and str(scene.other_page.id) not in everything.text

    async def test_filters_by_status(self, client: httpx.AsyncClient, scene: Scene) -> None:
        page = await client.get(
            f"/dashboard/campaigns/{scene.campaign['id']}/fundraisers", params={"status": "pending_approval"}
        )

        assert str(scene.waiting.id) in page.text
        assert str(scene.runner.id) not in page.text
        assert 'aria-current="page" class="current">Waiting for approval<' in page.text

    async def test_reads_in_dutch(self, client: httpx.AsyncClient, scene: Scene) -> None:
        page = await client.get(f"/dashboard/campaigns/{scene.campaign['id']}/fundraisers?lang=nl")

        assert page.headers["content-language"] == "nl"
        assert "<h1>Inzamelingsacties</h1>" in page.text
        runner = row_of(page.text, scene.runner.id)
        assert "€\xa085,00" in runner and "Online" in runner
        assert "Wacht op goedkeuring" in row_of(page.text, scene.waiting.id)

    async def test_another_organisations_campaign_is_not_found(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        page = await client.get(f"/dashboard/campaigns/{scene.other_campaign['id']}/fundraisers")

        assert page.status_code == 404


class TestDetail:
    async def test_shows_totals_and_each_gift_with_the_donor_as_the_nonprofit_sees_them(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        page = await client.get(f"/dashboard/fundraisers/{scene.runner.id}")

        assert page.status_code == 200
        totals = re.search(r'<dl class="fr-totals" id="fundraiser-totals">(.*?)</dl>', page.text, re.S)
        assert totals is not None
        assert re.findall(r"<dd>(.*?)</dd>", totals.group(1)) == ["€85.00", "2", "3", "€500.00"]
        gifts = {gid: re.search(rf'<tr id="gift-{gid}">(.*?)</tr>', page.text, re.S) for gid in scene.gifts}
        assert all(g is not None for g in gifts.values())
        texts = [g.group(1) for g in gifts.values() if g is not None]
        assert "Joe Bloggs" in texts[0] and "Joe B." in texts[1]
        # As in the API: the nonprofit sees who gave, and that they asked to be anonymous in public.
        assert "Secret Sam" in texts[2] and "(gave anonymously)" in texts[2]
        assert "(gave anonymously)" not in texts[0]

    async def test_open_reports_are_counted_not_shown(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        for message in ("Not Anna.", "Fake page."):
            async with database.transaction() as session:
                await moderation.report_campaign(
                    session,
                    slug=scene.campaign["slug"],
                    reason=ReportReason.IMPERSONATION,
                    message=message,
                    reporter_email="reporter@example.org",
                    client_hash=None,
                    fundraiser_id=scene.runner.id,
                )

        listed = await client.get(f"/dashboard/campaigns/{scene.campaign['id']}/fundraisers?lang=nl")
        detail = await client.get(f"/dashboard/fundraisers/{scene.runner.id}?lang=en")

        assert "2 meldingen" in row_of(listed.text, scene.runner.id)
        assert "Visitors reported this page 2 times." in detail.text
        assert "reporter@example.org" not in detail.text and "Fake page." not in detail.text
        assert "meldingen" not in row_of(listed.text, scene.waiting.id)

    async def test_another_organisations_page_is_not_found(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        assert (await client.get(f"/dashboard/fundraisers/{scene.other_page.id}")).status_code == 404
        assert (await client.get(f"/dashboard/fundraisers/{scene.other_page.id}/end")).status_code == 404


class TestDecisions:
    async def test_approve_from_the_list_makes_the_page_live_and_is_audited(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        list_url = f"/dashboard/campaigns/{scene.campaign['id']}/fundraisers"

        response = await helpers.submit(
            client, f"/dashboard/fundraisers/{scene.waiting.id}/approve", {"return_to": "list"}, page=list_url
        )

        assert response.status_code == 303
        assert response.headers["location"] == list_url
        assert await status_of(database, scene.waiting.id) is FundraiserStatus.LIVE
        assert await decisions_on(database, scene.waiting.id) == [("fundraiser.approve", "member", None)]
        assert "Piet cycles for coats” is live." in (await client.get(list_url)).text

    async def test_hide_with_a_note_then_show_again(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        detail = f"/dashboard/fundraisers/{scene.runner.id}"

        hidden = await helpers.submit(client, f"{detail}/hide", {"note": "Photo needs a check"}, page=detail)
        assert hidden.status_code == 303
        assert await status_of(database, scene.runner.id) is FundraiserStatus.HIDDEN
        shown = await helpers.submit(client, f"{detail}/unhide", page=detail)

        assert shown.status_code == 303
        assert await status_of(database, scene.runner.id) is FundraiserStatus.LIVE
        assert await decisions_on(database, scene.runner.id) == [
            ("fundraiser.approve", "api_key", None),
            ("fundraiser.hide", "member", "Photo needs a check"),
            ("fundraiser.unhide", "member", None),
        ]

    async def test_end_asks_for_confirmation_and_is_final(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        detail = f"/dashboard/fundraisers/{scene.runner.id}"
        assert f'href="{detail}/end"' in (await client.get(detail)).text

        confirm = await client.get(f"{detail}/end")
        assert confirm.status_code == 200 and 'id="end-confirm"' in confirm.text
        assert "The 3 gifts it brought still count" in confirm.text
        assert await status_of(database, scene.runner.id) is FundraiserStatus.LIVE
        ended = await helpers.submit(
            client, f"{detail}/end", {"note": "Fundraiser asked us to"}, page=f"{detail}/end"
        )

        assert ended.status_code == 303
        assert await status_of(database, scene.runner.id) is FundraiserStatus.ENDED
        after = (await client.get(detail)).text
        assert 'id="fundraiser-actions"' not in after and "Ended" in after
        again = await helpers.submit(client, f"{detail}/unhide", page=detail)
        assert again.status_code == 409
        assert helpers.form_error(again.text) == "The page is ended and cannot become live."

    async def test_a_refused_decision_says_why_and_changes_nothing(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        detail = f"/dashboard/fundraisers/{scene.runner.id}"

        response = await helpers.submit(client, f"{detail}/approve?lang=nl", page=detail)

        assert response.status_code == 409
        assert helpers.form_error(response.text) is not None
        assert await status_of(database, scene.runner.id) is FundraiserStatus.LIVE
        assert [a for a, _, _ in await decisions_on(database, scene.runner.id)] == ["fundraiser.approve"]

    async def test_a_note_too_long_is_an_error_next_to_it(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        detail = f"/dashboard/fundraisers/{scene.runner.id}"

        response = await helpers.submit(client, f"{detail}/hide", {"note": "x" * 2001}, page=detail)

        assert response.status_code == 422
        assert helpers.field_error(response.text, "note") == "Please keep this to 2000 characters or fewer."
        assert await status_of(database, scene.runner.id) is FundraiserStatus.LIVE

    async def test_another_organisations_page_cannot_be_decided(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        for action in ("approve", "hide", "end"):
            response = await helpers.submit(
                client, f"/dashboard/fundraisers/{scene.other_page.id}/{action}", page="/dashboard"
            )
            assert response.status_code == 404, action
        assert await status_of(database, scene.other_page.id) is scene.other_page.status
        assert await decisions_on(database, scene.other_page.id) == []

    async def test_a_viewer_sees_but_cannot_decide(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        await helpers.log_out(client)
        await helpers.add_member(client, scene.org, role="viewer")
        detail = f"/dashboard/fundraisers/{scene.waiting.id}"
        page = await client.get(detail)
        assert page.status_code == 200 and 'id="fundraiser-actions"' not in page.text

        response = await helpers.submit(client, f"{detail}/approve", page=detail)

        assert response.status_code == 403
        assert await status_of(database, scene.waiting.id) is FundraiserStatus.PENDING_APPROVAL


class TestDownloads:
    async def test_fundraisers_and_their_donations_as_csv(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        pages = parse_csv(
            await client.get(
                "/dashboard/exports/fundraisers.csv", params={"campaign_id": scene.campaign["id"]}
            )
        )
        gifts = parse_csv(
            await client.get(
                "/dashboard/exports/fundraiser-donations.csv", params={"fundraiser_id": str(scene.runner.id)}
            )
        )

        by_id = {row["fundraiser_id"]: row for row in pages}
        assert set(by_id) == {str(scene.runner.id), str(scene.waiting.id)}
        runner = by_id[str(scene.runner.id)]
        assert (runner["raised"], runner["distinct_donors"], runner["team"], runner["status"]) == (
            "85.00",
            "2",
            "Runners",
            "live",
        )
        assert "nonprofit" not in runner
        assert [row["donation_id"] for row in gifts] == scene.gifts
        assert [row["donor_name"] for row in gifts] == ["Joe Bloggs", "Joe B.", ""]
        assert {row["fundraiser"] for row in gifts} == {"Anna de Vries"}
