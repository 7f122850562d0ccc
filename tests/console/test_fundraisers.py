"""Moderators review supporters' pages (#15): reported and flagged pages listed, hidden, shown
again or ended with a reason, audited, the page's reports closed."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
import sqlalchemy as sa

from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from campaigns.moderation import service as moderation
from campaigns.moderation.models import CampaignReport, ReportReason
from service import audit
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from tests.campaigns.dashboard.fundraisers_scene import Scene, approve, build_scene
from tests.campaigns.fundraising.helpers import live_page
from tests.campaigns.giving.conftest import app, stripe_double
from tests.console.helpers import signed_in_admin, submit
from tests.mail_server import SmtpServer

__all__ = ["app", "stripe_double"]


@pytest.fixture
async def scene(
    client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
) -> Scene:
    return await build_scene(client, database, settings, smtp_server)


async def report(database: Database, scene: Scene, page: Fundraiser, message: str) -> None:
    async with database.transaction() as session:
        await moderation.report_campaign(
            session,
            slug=scene.campaign["slug"],
            reason=ReportReason.IMPERSONATION,
            message=message,
            reporter_email=None,
            client_hash=None,
            fundraiser_id=page.id,
        )


async def page_state(database: Database, page_id: uuid.UUID) -> tuple[FundraiserStatus, int]:
    async with database.transaction() as session:
        status = await session.scalar(sa.select(Fundraiser.status).where(Fundraiser.id == page_id))
        open_reports = await session.scalar(
            sa.select(sa.func.count())
            .select_from(CampaignReport)
            .where(CampaignReport.fundraiser_id == page_id, CampaignReport.resolved_at.is_(None))
        )
    assert status is not None
    return status, int(open_reports or 0)


def section(page: str, name: str) -> str:
    match = re.search(rf'<section aria-labelledby="{name}-heading" id="{name}">(.*?)</section>', page, re.S)
    assert match is not None
    return match.group(1)


class TestQueue:
    async def test_reported_and_flagged_pages_are_listed_for_moderators(
        self,
        client: httpx.AsyncClient,
        database: Database,
        smtp_server: SmtpServer,
        scene: Scene,
    ) -> None:
        await report(database, scene, scene.runner, "This is not Anna, it copies her photo.")
        flagged = await live_page(
            client,
            database,
            smtp_server,
            scene.campaign["slug"],
            title="Send your bank password to win",
            story="Wire transfer to my personal account, guaranteed returns.",
            email="flag@example.org",
        )
        flagged = await approve(database, scene.campaign, flagged)
        await signed_in_admin(client, database)

        page = await client.get("/admin/fundraisers")

        assert page.status_code == 200
        assert 'id="nav-fundraisers"' in page.text
        reported = section(page.text, "reported")
        assert f'id="fundraiser-{scene.runner.id}"' in reported
        assert "it copies her photo" in reported
        assert str(scene.waiting.id) not in page.text  # neither reported nor flagged
        assert flagged.screen_flags  # "wire transfer": off-platform payment
        assert f'id="fundraiser-{flagged.id}"' in section(page.text, "flagged")
        assert "wire transfer" in section(page.text, "flagged")

    async def test_an_ended_page_leaves_the_reported_queue(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        await report(database, scene, scene.waiting, "Not a real runner.")
        ended = await client.post(
            f"/api/v1/fundraisers/{scene.runner.id}/end", json={"note": "Scam"}, headers=scene.org.headers
        )
        assert ended.status_code == 200, ended.text
        # A visitor's tab still showed the page: the report arrives after it ended.
        await report(database, scene, scene.runner, "This is not Anna, it copies her photo.")
        await signed_in_admin(client, database)

        page = await client.get("/admin/fundraisers")

        assert page.status_code == 200
        assert f'id="fundraiser-{scene.waiting.id}"' in section(page.text, "reported")
        assert str(scene.runner.id) not in page.text

    async def test_only_reviewers_open_it(self, client: httpx.AsyncClient, database: Database) -> None:
        await signed_in_admin(client, database, role=AdminRole.FINANCE)

        page = await client.get("/admin/fundraisers")

        assert page.status_code == 403


class TestDecisions:
    async def test_hide_with_a_reason_closes_the_reports_and_is_audited(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        await report(database, scene, scene.runner, "Impersonation.")
        admin = await signed_in_admin(client, database)

        response = await submit(
            client,
            f"/admin/fundraisers/{scene.runner.id}/hide",
            {"reason": "Uses another person's photo"},
            page="/admin/fundraisers",
        )

        assert response.status_code == 303
        assert await page_state(database, scene.runner.id) == (FundraiserStatus.HIDDEN, 0)
        async with database.transaction() as session:
            entries = await audit.list_entries(
                session, subject_type="fundraiser", subject_id=str(scene.runner.id)
            )
        decided = {e.action: e for e in entries}
        assert decided["fundraiser.hide"].actor_id == str(admin.id)
        assert decided["fundraiser.hide"].note == "Uses another person's photo"
        assert decided["fundraiser.reports_resolved"].note == "Uses another person's photo"
        after = await client.get("/admin/fundraisers")
        assert f'id="fundraiser-{scene.runner.id}"' in section(after.text, "hidden")

    async def test_end_is_final(self, client: httpx.AsyncClient, database: Database, scene: Scene) -> None:
        await signed_in_admin(client, database)
        ended = await submit(
            client, f"/admin/fundraisers/{scene.runner.id}/end", {"reason": "Scam"}, page="/admin/fundraisers"
        )
        assert ended.status_code == 303

        again = await submit(
            client,
            f"/admin/fundraisers/{scene.runner.id}/unhide",
            {"reason": "Oops"},
            page="/admin/fundraisers",
        )

        assert again.status_code == 409
        assert await page_state(database, scene.runner.id) == (FundraiserStatus.ENDED, 0)

    async def test_ending_a_reported_page_closes_its_reports_once_with_the_reason(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        await report(database, scene, scene.runner, "Impersonation.")
        admin = await signed_in_admin(client, database)

        ended = await submit(
            client, f"/admin/fundraisers/{scene.runner.id}/end", {"reason": "Scam"}, page="/admin/fundraisers"
        )

        assert ended.status_code == 303
        assert await page_state(database, scene.runner.id) == (FundraiserStatus.ENDED, 0)
        async with database.transaction() as session:
            entries = await audit.list_entries(
                session, subject_type="fundraiser", subject_id=str(scene.runner.id)
            )
            [closed] = (
                await session.scalars(
                    sa.select(CampaignReport).where(CampaignReport.fundraiser_id == scene.runner.id)
                )
            ).all()
        resolved = [e for e in entries if e.action == "fundraiser.reports_resolved"]
        assert [(e.note, e.actor_id) for e in resolved] == [("Scam", str(admin.id))]
        assert (closed.resolution_note, closed.resolved_by_admin_id) == ("Scam", admin.id)

    async def test_showing_a_page_again_keeps_the_reason_in_the_audit_log(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        await signed_in_admin(client, database)
        await submit(
            client,
            f"/admin/fundraisers/{scene.runner.id}/hide",
            {"reason": "Checking"},
            page="/admin/fundraisers",
        )

        shown = await submit(
            client,
            f"/admin/fundraisers/{scene.runner.id}/unhide",
            {"reason": "The organisation vouched for her"},
            page="/admin/fundraisers",
        )

        assert shown.status_code == 303
        assert await page_state(database, scene.runner.id) == (FundraiserStatus.LIVE, 0)
        async with database.transaction() as session:
            entries = await audit.list_entries(
                session, subject_type="fundraiser", subject_id=str(scene.runner.id)
            )
        assert {e.action: e.note for e in entries}["fundraiser.unhide"] == "The organisation vouched for her"

    @pytest.mark.parametrize("reason", ["", "no"])
    async def test_a_reason_is_required(
        self, client: httpx.AsyncClient, database: Database, scene: Scene, reason: str
    ) -> None:
        await report(database, scene, scene.runner, "Impersonation.")
        await signed_in_admin(client, database)

        response = await submit(
            client,
            f"/admin/fundraisers/{scene.runner.id}/hide",
            {"reason": reason},
            page="/admin/fundraisers",
        )

        assert response.status_code == 422
        assert f'id="hide-reason-{scene.runner.id}-error"' in response.text
        assert await page_state(database, scene.runner.id) == (FundraiserStatus.LIVE, 1)

    async def test_an_unknown_page_or_decision_is_not_found(
        self, client: httpx.AsyncClient, database: Database, scene: Scene
    ) -> None:
        await signed_in_admin(client, database)

        missing = await submit(
            client, f"/admin/fundraisers/{uuid.uuid4()}/hide", {"reason": "Scam"}, page="/admin/fundraisers"
        )
        unknown = await submit(
            client,
            f"/admin/fundraisers/{scene.runner.id}/delete",
            {"reason": "Scam"},
            page="/admin/fundraisers",
        )

        assert (missing.status_code, unknown.status_code) == (404, 404)
        assert await page_state(database, scene.runner.id) == (FundraiserStatus.LIVE, 0)
