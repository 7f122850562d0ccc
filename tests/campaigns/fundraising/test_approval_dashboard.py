"""The dashboard side of approval integrity (#15 review, part A): showing a hidden page again
takes a note and returns the page to where it was hidden from, and says so."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from campaigns.fundraising.models import Fundraiser, FundraiserStatus
from service import audit
from service.db import Database
from tests.campaigns.dashboard import helpers
from tests.campaigns.fundraising.helpers import live_page, p2p_campaign
from tests.mail_server import SmtpServer


class TestShowAgainInTheDashboard:
    async def test_a_page_hidden_before_approval_is_shown_again_waiting_with_the_note_audited(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database, need_approval=True)
        page = await live_page(client, database, smtp_server, campaign["slug"], title="Piet cycles for coats")
        await helpers.log_in(client, campaign["_org"].email)
        detail = f"/dashboard/fundraisers/{page.id}"
        await helpers.submit(client, f"{detail}/hide", {"note": "Checking the photo"}, page=detail)

        hidden_view = (await client.get(detail)).text
        shown = await helpers.submit(client, f"{detail}/unhide", {"note": "Photo is fine"}, page=detail)

        assert 'id="unhide-form"' in hidden_view and 'id="unhide-hint"' in hidden_view
        assert "waits for your approval again" in hidden_view
        assert shown.status_code == 303
        async with database.transaction() as session:
            status = await session.scalar(sa.select(Fundraiser.status).where(Fundraiser.id == page.id))
            entries = await audit.list_entries(session, subject_type="fundraiser", subject_id=str(page.id))
        assert status is FundraiserStatus.PENDING_APPROVAL
        assert [(e.action, e.note) for e in reversed(entries)] == [
            ("fundraiser.hide", "Checking the photo"),
            ("fundraiser.unhide", "Photo is fine"),
        ]
        after = (await client.get(detail)).text
        assert "no longer hidden and waits for your approval" in after
        assert 'id="approve"' in after
