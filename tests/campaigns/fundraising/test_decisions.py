"""The nonprofit's and moderators' decisions on pages: approve, hide, unhide, end; tenant
isolation of the service functions; the audit log and the facts (#15)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
import sqlalchemy as sa

from campaigns.fundraising import service as fundraising
from campaigns.fundraising.errors import FundraiserNotFound, IllegalFundraiserTransition
from campaigns.fundraising.models import FundraiserStatus
from campaigns.integrations.models import IntegrationEvent
from campaigns.moderation.models import CampaignReport, ReportReason
from campaigns.nonprofits.errors import RoleRequired
from campaigns.nonprofits.models import MemberRole
from service.audit import AuditEntry
from service.auth.models import Admin
from service.db import Database
from tests.builders import insert_admin
from tests.campaigns.fundraising.helpers import live_page, owner_actor, p2p_campaign
from tests.mail_server import SmtpServer


class TestDecisions:
    async def test_hide_unhide_and_end_move_the_page_and_are_audited_and_announced(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"])
        actor = owner_actor(campaign)
        url = f"/api/v1/public/campaigns/{campaign['slug']}/fundraisers/{page.slug}"

        async with database.transaction() as session:
            hidden = await fundraising.hide(session, actor=actor, fundraiser_id=page.id, note="rude words")
        assert hidden.status is FundraiserStatus.HIDDEN
        assert (await client.get(url)).status_code == 404
        async with database.transaction() as session:
            await fundraising.unhide(session, actor=actor, fundraiser_id=page.id)
        assert (await client.get(url)).status_code == 200
        async with database.transaction() as session:
            await fundraising.hide(session, actor=actor, fundraiser_id=page.id)
        admin = await insert_admin(database)
        async with database.transaction() as session:
            admin_row = await session.get(Admin, admin.id)
            assert admin_row is not None
            ended = await fundraising.end(
                session, actor=admin_row, fundraiser_id=page.id, note="impersonation"
            )
        assert ended.status is FundraiserStatus.ENDED and ended.ended_at is not None

        with pytest.raises(IllegalFundraiserTransition):
            async with database.transaction() as session:
                await fundraising.unhide(session, actor=actor, fundraiser_id=page.id)
        async with database.transaction() as session:
            actions = (
                await session.scalars(
                    sa.select(AuditEntry.action)
                    .where(AuditEntry.subject_type == "fundraiser", AuditEntry.subject_id == str(page.id))
                    .order_by(AuditEntry.created_at, AuditEntry.id)
                )
            ).all()
            events = (await session.scalars(sa.select(IntegrationEvent.type))).all()
        assert actions == ["fundraiser.hide", "fundraiser.unhide", "fundraiser.hide", "fundraiser.end"]
        assert sorted(e for e in events if e.startswith("fundraiser.")) == [
            "fundraiser.created",
            "fundraiser.ended",
            "fundraiser.hidden",
            "fundraiser.hidden",
            "fundraiser.unhidden",
        ]

    async def test_another_organisation_cannot_see_or_decide_on_a_page(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database, need_approval=True)
        other = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"])
        stranger = owner_actor(other)

        for decide in (fundraising.approve, fundraising.hide, fundraising.unhide, fundraising.end):
            with pytest.raises(FundraiserNotFound):
                async with database.transaction() as session:
                    await decide(session, actor=stranger, fundraiser_id=page.id)
        async with database.transaction() as session:
            with pytest.raises(FundraiserNotFound):
                await fundraising.get_for_actor(session, actor=stranger, fundraiser_id=page.id)
            assert await fundraising.list_for_nonprofit(session, actor=stranger) == []
            own = await fundraising.list_for_nonprofit(session, actor=owner_actor(campaign))
        assert [p.id for p in own] == [page.id]
        async with database.transaction() as session:
            assert (
                await fundraising.get_for_actor(session, actor=owner_actor(campaign), fundraiser_id=page.id)
            ).status is FundraiserStatus.PENDING_APPROVAL

    async def test_a_viewer_cannot_decide(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database, need_approval=True)
        page = await live_page(client, database, smtp_server, campaign["slug"])
        viewer = dataclasses.replace(owner_actor(campaign), role=MemberRole.VIEWER)

        with pytest.raises(RoleRequired):
            async with database.transaction() as session:
                await fundraising.approve(session, actor=viewer, fundraiser_id=page.id)


class TestReports:
    async def test_a_visitor_can_report_a_live_page(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        page = await live_page(client, database, smtp_server, campaign["slug"])

        async with database.transaction() as session:
            await fundraising.report_page(
                session,
                campaign_slug=campaign["slug"],
                fundraiser_slug=page.slug,
                reason=ReportReason.IMPERSONATION,
                message="This is not who they say",
                reporter_email=None,
                client_hash=None,
            )
        async with database.transaction() as session:
            [report] = (await session.scalars(sa.select(CampaignReport))).all()
        assert report.fundraiser_id == page.id and str(report.campaign_id) == campaign["id"]
