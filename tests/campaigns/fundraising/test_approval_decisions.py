"""Decisions keep approval whole (#15 review, part A): showing a hidden page again returns it to
where it was hidden from, with a note in the audit log; ending a page closes its open reports,
hiding does not. Through the nonprofit API and the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from campaigns.moderation.models import CampaignReport, ReportReason
from service.audit import AuditEntry
from service.auth.models import Admin
from service.db import Database
from tests.builders import insert_admin
from tests.campaigns.fundraising.helpers import live_page, owner_actor, p2p_campaign
from tests.mail_server import SmtpServer


async def _decide(
    client: httpx.AsyncClient, campaign: dict[str, Any], page: Fundraiser, action: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/fundraisers/{page.id}/{action}", json=body, headers=campaign["_org"].headers
    )


async def _status(database: Database, page: Fundraiser) -> FundraiserStatus:
    async with database.transaction() as session:
        row = await session.get(Fundraiser, page.id)
    assert row is not None
    return row.status


async def _report(database: Database, campaign: dict[str, Any], page: Fundraiser) -> None:
    async with database.transaction() as session:
        await fundraising.report_page(
            session,
            campaign_slug=campaign["slug"],
            fundraiser_slug=page.slug,
            reason=ReportReason.IMPERSONATION,
            message="Not who they say they are",
            reporter_email=None,
            client_hash=None,
        )


async def _open_reports(database: Database, page: Fundraiser) -> list[CampaignReport]:
    async with database.transaction() as session:
        return list(
            (
                await session.scalars(
                    sa.select(CampaignReport).where(
                        CampaignReport.fundraiser_id == page.id, CampaignReport.resolved_at.is_(None)
                    )
                )
            ).all()
        )


async def _audit(database: Database, page: Fundraiser) -> list[tuple[str, str | None]]:
    async with database.transaction() as session:
        rows = await session.execute(
            sa.select(AuditEntry.action, AuditEntry.note)
            .where(AuditEntry.subject_type == "fundraiser", AuditEntry.subject_id == str(page.id))
            .order_by(AuditEntry.created_at, AuditEntry.id)
        )
        return [(action, note) for action, note in rows]


class TestUnhide:
    async def test_a_page_hidden_before_its_approval_waits_for_approval_again(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database, need_approval=True)
        page = await live_page(client, database, smtp_server, campaign["slug"])
        assert page.status is FundraiserStatus.PENDING_APPROVAL
        public = f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}"

        hidden = await _decide(client, campaign, page, "hide", note="looks off")
        shown = await _decide(client, campaign, page, "unhide", note="checked with the runner")

        assert hidden.status_code == 200 and hidden.json()["status"] == "hidden"
        assert shown.status_code == 200, shown.text
        assert shown.json()["status"] == "pending_approval" and shown.json()["page_url"] is None
        assert await _status(database, page) is FundraiserStatus.PENDING_APPROVAL
        assert (await client.get(public)).status_code == 404
        approved = await _decide(client, campaign, page, "approve")
        assert approved.json()["status"] == "live"
        assert (await client.get(public)).status_code == 200
        assert await _audit(database, page) == [
            ("fundraiser.hide", "looks off"),
            ("fundraiser.unhide", "checked with the runner"),
            ("fundraiser.approve", None),
        ]

    async def test_a_live_page_hidden_and_shown_again_is_live(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"])

        await _decide(client, campaign, page, "hide")
        shown = await _decide(client, campaign, page, "unhide")

        assert shown.status_code == 200 and shown.json()["status"] == "live"
        assert shown.json()["page_url"] is not None

    async def test_a_page_hidden_before_the_status_was_kept_goes_live_only_if_it_was_approved(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database, need_approval=True)
        never_approved = await live_page(client, database, smtp_server, campaign["slug"])
        approved = await live_page(client, database, smtp_server, campaign["slug"])
        await _decide(client, campaign, approved, "approve")
        for page in (never_approved, approved):
            await _decide(client, campaign, page, "hide")
        # Hidden before pages remembered where they were hidden from (rows of an older release).
        async with database.transaction() as session:
            await session.execute(sa.update(Fundraiser).values(hidden_from=None))

        first = await _decide(client, campaign, never_approved, "unhide")
        second = await _decide(client, campaign, approved, "unhide")

        assert first.json()["status"] == "pending_approval"
        assert second.json()["status"] == "live"

    async def test_the_note_is_checked_like_the_other_decisions(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"])
        await _decide(client, campaign, page, "hide")

        too_long = await _decide(client, campaign, page, "unhide", note="x" * 2001)

        assert too_long.status_code == 422 and too_long.json()["error"]
        assert await _status(database, page) is FundraiserStatus.HIDDEN


class TestEndClosesReports:
    async def test_ending_closes_the_pages_open_reports_and_hiding_keeps_them_open(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"])
        other = await live_page(client, database, smtp_server, campaign["slug"])
        await _report(database, campaign, page)
        await _report(database, campaign, page)
        await _report(database, campaign, other)

        await _decide(client, campaign, page, "hide", note="under review")
        assert len(await _open_reports(database, page)) == 2
        ended = await _decide(client, campaign, page, "end", note="impersonation confirmed")

        assert ended.status_code == 200 and ended.json()["status"] == "ended"
        assert await _open_reports(database, page) == []
        assert len(await _open_reports(database, other)) == 1
        async with database.transaction() as session:
            notes = (
                await session.scalars(
                    sa.select(CampaignReport.resolution_note).where(CampaignReport.fundraiser_id == page.id)
                )
            ).all()
        assert notes == ["impersonation confirmed", "impersonation confirmed"]
        assert (await _audit(database, page))[-2:] == [
            ("fundraiser.end", "impersonation confirmed"),
            ("fundraiser.reports_resolved", "impersonation confirmed"),
        ]

    async def test_a_moderator_ending_a_page_closes_its_reports_in_their_name(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"])
        await _report(database, campaign, page)
        admin = await insert_admin(database)

        async with database.transaction() as session:
            admin_row = await session.get(Admin, admin.id)
            assert admin_row is not None
            await fundraising.end(session, actor=admin_row, fundraiser_id=page.id, note=None)

        async with database.transaction() as session:
            [report] = (
                await session.scalars(
                    sa.select(CampaignReport).where(CampaignReport.fundraiser_id == page.id)
                )
            ).all()
        assert report.resolved_at is not None and report.resolved_by_admin_id == admin.id
        assert report.resolution_note == "The page was ended."

    async def test_a_member_ending_a_page_through_the_service_closes_its_reports(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"])
        await _report(database, campaign, page)

        async with database.transaction() as session:
            await fundraising.end(session, actor=owner_actor(campaign), fundraiser_id=page.id)

        assert await _open_reports(database, page) == []
        async with database.transaction() as session:
            report = await session.scalar(
                sa.select(CampaignReport).where(CampaignReport.fundraiser_id == page.id)
            )
        assert report is not None and report.resolved_by_admin_id is None
