"""Invitations go out by email: from the API and the dashboard, a double submit sends once, and
a resend emails a new link while the old one stops working."""

from __future__ import annotations

import re

import httpx
import sqlalchemy as sa

from campaigns.nonprofits.models import MemberInvite
from service.db import Database
from tests.campaigns.dashboard.helpers import csrf_token_in, log_in, submit
from tests.campaigns.notifications.helpers import organisation
from tests.mail_server import SmtpServer, parts

LINK = re.compile(r"http://testserver(/dashboard/invite/[A-Za-z0-9_-]+)")


def invite_link(text: str) -> str:
    match = LINK.search(text)
    assert match is not None, text
    return match.group(1)


async def invites_to(database: Database, email: str) -> list[MemberInvite]:
    async with database.transaction() as session:
        return list(await session.scalars(sa.select(MemberInvite).where(MemberInvite.email == email)))


class TestInvitationEmail:
    async def test_the_api_emails_the_link_it_returns(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        org = await organisation(client, database, name="Harbor Relief")

        invited = await client.post(
            "/api/v1/members/invites",
            json={"email": "new@harbor-relief.org", "role": "viewer"},
            headers=org.org.headers,
        )
        [mail] = await smtp_server.deliver(database)

        assert invited.status_code == 201
        assert mail["To"] == "new@harbor-relief.org"
        assert mail["Subject"] == "Join Harbor Relief on Goodloop"
        text, html = parts(mail)
        assert "You are invited to join Harbor Relief on Goodloop as a viewer." in text
        path = invite_link(text)
        assert invited.json()["accept_url"] == f"http://testserver{path}"
        assert f'href="http://testserver{path}"' in html
        assert (await client.get(path)).status_code == 200

    async def test_a_double_submitted_form_makes_one_invitation_and_one_email(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        org = await organisation(client, database)
        await log_in(client, org.org.email)
        page = (await client.get("/dashboard/members")).text
        token = csrf_token_in(page)
        submission = re.search(r'name="submission" value="([^"]+)"', page)
        assert submission is not None
        form = {
            "csrf_token": token,
            "submission": submission.group(1),
            "email": "twice@harbor-relief.org",
            "role": "editor",
        }

        first = await client.post("/dashboard/members/invite", data=form)
        second = await client.post("/dashboard/members/invite", data=form)
        arrived = await smtp_server.deliver(database)

        assert first.status_code == 200 and 'id="invite-url"' in first.text
        assert second.status_code == 200 and 'id="invite-url"' not in second.text
        assert "The invitation to twice@harbor-relief.org is sent by email." in second.text
        assert len(await invites_to(database, "twice@harbor-relief.org")) == 1
        [mail] = arrived
        assert mail["To"] == "twice@harbor-relief.org"
        # From the dashboard the inviter is named, and a reply reaches them.
        assert mail["Reply-To"] == org.org.email
        assert f"{org.org.email} invited you to join" in parts(mail)[0]

    async def test_resending_emails_a_new_link_and_the_old_one_stops_working(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        org = await organisation(client, database)
        await client.post(
            "/api/v1/members/invites",
            json={"email": "late@harbor-relief.org", "role": "editor"},
            headers=org.org.headers,
        )
        [first] = await smtp_server.deliver(database)
        old = invite_link(parts(first)[0])
        [invite] = await invites_to(database, "late@harbor-relief.org")
        await log_in(client, org.org.email)

        resent = await submit(
            client,
            f"/dashboard/members/invites/{invite.id}/resend",
            {"submission": "x" * 24},
            page="/dashboard/members",
        )
        [second] = await smtp_server.deliver(database)

        assert resent.status_code == 200
        new = invite_link(parts(second)[0])
        assert new != old
        assert f'value="http://testserver{new}"' in resent.text
        assert (await client.get(old)).status_code == 404
        assert (await client.get(new)).status_code == 200

    async def test_another_organisations_invitation_cannot_be_resent(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        mine = await organisation(client, database)
        theirs = await organisation(client, database)
        await client.post(
            "/api/v1/members/invites",
            json={"email": "x@harbor-relief.org", "role": "editor"},
            headers=theirs.org.headers,
        )
        [invite] = await invites_to(database, "x@harbor-relief.org")
        await smtp_server.deliver(database)

        response = await client.post(f"/api/v1/members/invites/{invite.id}/resend", headers=mine.org.headers)
        own = await client.post(f"/api/v1/members/invites/{invite.id}/resend", headers=theirs.org.headers)

        assert response.status_code == 404
        assert response.json()["error"] == "invite_not_found"
        assert own.status_code == 200
        [mail] = await smtp_server.deliver(database)
        assert invite_link(parts(mail)[0]) == httpx.URL(own.json()["accept_url"]).path


class TestApiRetries:
    async def test_a_retried_invite_or_resend_with_its_idempotency_key_sends_once(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        org = await organisation(client, database)
        body = {"email": "retry@harbor-relief.org", "role": "editor"}
        headers = {**org.org.headers, "Idempotency-Key": "invite-retry-1"}

        first = await client.post("/api/v1/members/invites", json=body, headers=headers)
        again = await client.post("/api/v1/members/invites", json=body, headers=headers)
        [invite] = await invites_to(database, "retry@harbor-relief.org")
        resend = f"/api/v1/members/invites/{invite.id}/resend"
        resend_headers = {**org.org.headers, "Idempotency-Key": "resend-retry-1"}
        resent = await client.post(resend, headers=resend_headers)
        resent_again = await client.post(resend, headers=resend_headers)
        arrived = await smtp_server.deliver(database)

        assert first.json() == again.json()
        assert resent.json() == resent_again.json()
        assert sorted(invite_link(parts(m)[0]) for m in arrived) == sorted(
            [httpx.URL(first.json()["accept_url"]).path, httpx.URL(resent.json()["accept_url"]).path]
        )
