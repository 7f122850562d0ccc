"""One members page carries one submission value for its invite form and every Resend button:
a second, different action from that page is sent too, not taken for a double submit."""

from __future__ import annotations

import re

import httpx
import sqlalchemy as sa

from campaigns.nonprofits.models import MemberInvite
from service.db import Database
from tests.campaigns.dashboard.helpers import csrf_token_in, log_in
from tests.campaigns.notifications.helpers import organisation
from tests.mail_server import SmtpServer


async def invite_id(database: Database, email: str) -> str:
    async with database.transaction() as session:
        found = await session.scalar(sa.select(MemberInvite.id).where(MemberInvite.email == email))
        assert found is not None
        return str(found)


class TestOnePageManyActions:
    async def test_each_action_from_one_stale_page_sends_its_own_email(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        org = await organisation(client, database)
        for email in ("a@harbor-relief.org", "b@harbor-relief.org"):
            await client.post(
                "/api/v1/members/invites", json={"email": email, "role": "editor"}, headers=org.org.headers
            )
        await smtp_server.deliver(database)
        await log_in(client, org.org.email)
        page = (await client.get("/dashboard/members")).text
        match = re.search(r'name="submission" value="([^"]+)"', page)
        assert match is not None
        form = {"csrf_token": csrf_token_in(page), "submission": match.group(1)}

        invited = await client.post(
            "/dashboard/members/invite", data={**form, "email": "c@harbor-relief.org", "role": "viewer"}
        )
        invited_again = await client.post(
            "/dashboard/members/invite", data={**form, "email": "d@harbor-relief.org", "role": "viewer"}
        )
        resent_a = await client.post(
            f"/dashboard/members/invites/{await invite_id(database, 'a@harbor-relief.org')}/resend", data=form
        )
        resent_b = await client.post(
            f"/dashboard/members/invites/{await invite_id(database, 'b@harbor-relief.org')}/resend", data=form
        )
        double_click = await client.post(
            f"/dashboard/members/invites/{await invite_id(database, 'b@harbor-relief.org')}/resend", data=form
        )
        arrived = await smtp_server.deliver(database)

        for response in (invited, invited_again, resent_a, resent_b):
            assert response.status_code == 200 and 'id="invite-url"' in response.text
        # The same button twice is still one email.
        assert double_click.status_code == 200 and 'id="invite-url"' not in double_click.text
        assert sorted(str(m["To"]) for m in arrived) == [
            "a@harbor-relief.org",
            "b@harbor-relief.org",
            "c@harbor-relief.org",
            "d@harbor-relief.org",
        ]
