"""The nonprofit approves the version it saw (#15 second review, X): approving names the page's
content revision, and an edit made since is refused (API 409, dashboard message); a new team's
name is the owner's words like a title (held for approval, impersonation rule); a re-hold is
audit-logged and announced; an unconfirmed address is never shown. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from campaigns.fundraising import service as fundraising
from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from campaigns.integrations.models import IntegrationEvent
from service.audit import ActorType, AuditEntry
from service.db import Database
from service.errors import ValidationFailed
from tests.campaigns.dashboard import helpers as dashboard
from tests.campaigns.fundraising.helpers import live_page, p2p_campaign, start
from tests.campaigns.fundraising.test_approval_edits import _approved_page, _edit, _signed_in
from tests.campaigns.giving.test_fundraiser_pages import start as start_form
from tests.mail_server import SmtpServer


async def _waiting_page(
    client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer, email: str
) -> tuple[dict[str, Any], Fundraiser, fundraising.SignedIn]:
    campaign = await p2p_campaign(client, database, need_approval=True)
    page = await live_page(client, database, smtp_server, campaign["slug"], email=email)
    assert page.status is FundraiserStatus.PENDING_APPROVAL
    return campaign, page, await _signed_in(database, smtp_server, campaign["slug"], email)


async def _status(database: Database, page: Fundraiser) -> FundraiserStatus:
    async with database.transaction() as session:
        found = await session.scalar(sa.select(Fundraiser.status).where(Fundraiser.id == page.id))
    assert found is not None
    return found


class TestApprovingTheVersionSeen:
    async def test_an_edit_after_the_reviewer_looked_is_refused_by_the_api(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign, page, signed = await _waiting_page(client, database, smtp_server, "seen@example.org")
        headers = campaign["_org"].headers
        seen = (await client.get(f"/api/v1/fundraisers/{page.id}", headers=headers)).json()

        await _edit(database, signed, page, story_markdown="Something the reviewer never read")
        stale = await client.post(
            f"/api/v1/fundraisers/{page.id}/approve",
            json={"expected_revision": seen["content_revision"]},
            headers=headers,
        )

        assert stale.status_code == 409, stale.text
        assert stale.json()["error"] == "fundraiser_changed"
        assert await _status(database, page) is FundraiserStatus.PENDING_APPROVAL
        again = (await client.get(f"/api/v1/fundraisers/{page.id}", headers=headers)).json()
        assert again["content_revision"] == seen["content_revision"] + 1
        approved = await client.post(
            f"/api/v1/fundraisers/{page.id}/approve",
            json={"expected_revision": again["content_revision"]},
            headers=headers,
        )
        assert approved.status_code == 200 and approved.json()["status"] == "live"

    async def test_the_dashboard_sends_the_revision_it_showed(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign, page, signed = await _waiting_page(client, database, smtp_server, "dash@example.org")
        await dashboard.log_in(client, campaign["_org"].email)
        detail = f"/dashboard/fundraisers/{page.id}"
        shown = (await client.get(detail)).text
        assert 'name="revision" value="0"' in shown

        await _edit(database, signed, page, title="A title nobody approved")
        refused = await dashboard.submit(client, f"{detail}/approve", {"revision": "0"}, page=detail)

        assert refused.status_code == 409
        assert "The page changed since you opened it" in refused.text
        assert 'name="revision" value="1"' in refused.text
        assert await _status(database, page) is FundraiserStatus.PENDING_APPROVAL
        done = await dashboard.submit(client, f"{detail}/approve", {"revision": "1"}, page=detail)
        assert done.status_code == 303
        assert await _status(database, page) is FundraiserStatus.LIVE


class TestNewTeams:
    async def test_creating_a_team_waits_for_approval_and_joining_one_does_not(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign, page, signed = await _approved_page(client, database, smtp_server, "team@example.org")
        headers = campaign["_org"].headers

        created = await _edit(
            database, signed, page, team=fundraising.TeamChoice(create_name="Harbour Runners")
        )
        assert created.status is FundraiserStatus.PENDING_APPROVAL
        await client.post(f"/api/v1/fundraisers/{page.id}/approve", headers=headers)
        teams = (await client.get(f"/api/v1/campaigns/{campaign['id']}/teams", headers=headers)).json()
        [team] = teams["data"]
        joiner = await live_page(client, database, smtp_server, campaign["slug"], email="joiner@example.org")
        await client.post(f"/api/v1/fundraisers/{joiner.id}/approve", headers=headers)
        joiner_owner = await _signed_in(database, smtp_server, campaign["slug"], "joiner@example.org")
        joined = await _edit(
            database,
            joiner_owner,
            joiner,
            team=fundraising.TeamChoice(join_slug=team["slug"]),
            goal_minor=70_000,
        )
        assert joined.status is FundraiserStatus.LIVE

    async def test_a_team_named_like_the_organisation_is_refused_at_start_and_edit(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign, page, signed = await _approved_page(client, database, smtp_server, "fake@example.org")
        disguised = campaign["title"].upper().replace(" ", ".")

        started = await start(client, campaign["slug"], team={"create": disguised})
        with pytest.raises(ValidationFailed) as refused_edit:
            await _edit(database, signed, page, team=fundraising.TeamChoice(create_name=disguised))

        assert started.status_code == 422, started.text
        assert "team" in started.text
        assert "team" in refused_edit.value.fields
        assert await _status(database, page) is FundraiserStatus.LIVE

    async def test_the_start_form_says_so_next_to_the_team_field(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        campaign = await p2p_campaign(client, database)

        refused = await start_form(client, campaign["slug"], team_name=campaign["title"].upper())

        assert refused.status_code == 422
        assert re.search(
            r'id="team_name-error">[^<]*team\'s name cannot be only', html.unescape(refused.text)
        )


class TestReHold:
    async def test_a_re_hold_is_audited_with_the_fundraiser_and_announced(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        _, page, signed = await _approved_page(client, database, smtp_server, "rehold@example.org")

        await _edit(database, signed, page, title="Now I run 20 km")

        async with database.transaction() as session:
            entries = (
                await session.scalars(
                    sa.select(AuditEntry)
                    .where(AuditEntry.subject_type == "fundraiser", AuditEntry.subject_id == str(page.id))
                    .order_by(AuditEntry.created_at, AuditEntry.id)
                )
            ).all()
            events = (await session.scalars(sa.select(IntegrationEvent.type))).all()
        assert [e.action for e in entries] == ["fundraiser.approve", "fundraiser.awaiting_approval"]
        held = entries[-1]
        assert held.actor_type is ActorType.SYSTEM and held.actor_id == str(page.id)
        assert held.actor_label == "fundraiser rehold@example.org"
        assert "fundraiser.awaiting_approval" in events


class TestUnconfirmedAddresses:
    async def test_an_unconfirmed_address_is_not_shown_in_the_api_or_the_dashboard(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        headers = campaign["_org"].headers
        started = await start(client, campaign["slug"], email="stranger@example.org")
        assert started.status_code == 202
        confirmed = await live_page(client, database, smtp_server, campaign["slug"], email="me@example.org")

        listed = (await client.get(f"/api/v1/campaigns/{campaign['id']}/fundraisers", headers=headers)).json()
        emails = {p["status"]: p["email"] for p in listed["data"]}
        [waiting] = [p for p in listed["data"] if p["status"] == "pending_email"]
        one = (await client.get(f"/api/v1/fundraisers/{waiting['id']}", headers=headers)).json()
        await dashboard.log_in(client, campaign["_org"].email)
        waiting_view = (await client.get(f"/dashboard/fundraisers/{waiting['id']}")).text
        confirmed_view = (await client.get(f"/dashboard/fundraisers/{confirmed.id}")).text

        assert emails == {"pending_email": None, "live": "me@example.org"}
        assert one["email"] is None
        assert "stranger@example.org" not in waiting_view and "Not confirmed yet" in waiting_view
        assert 'href="mailto:me@example.org"' in confirmed_view
