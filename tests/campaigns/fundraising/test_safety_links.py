"""A fundraiser's one-time links leave no copy in the mail outbox once sent (#15 review).

The database keeps only a link's hash; the outbox row that carried the link must not keep the
link itself either (service.mail.retention), like a password reset or a donor's sign-in.
"""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from campaigns.fundraising import service as fundraising
from service.db import Database
from service.mail.models import MailMessage, MailStatus
from tests.campaigns.fundraising.helpers import (
    SIGN_IN_LINK,
    live_page,
    mail_to,
    p2p_campaign,
    start,
    token_in,
)
from tests.mail_server import SmtpServer

REMOVED = "(removed once sent: it held a one-time link)"


async def _outbox_rows(database: Database, prefix: str) -> list[MailMessage]:
    async with database.transaction() as session:
        found = await session.scalars(sa.select(MailMessage).where(MailMessage.key.startswith(prefix)))
        return list(found.all())


class TestLinksLeaveNoCopy:
    async def test_a_sent_confirmation_keeps_no_token(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        await start(client, campaign["slug"], email="confirm@example.org")

        [(_, _, text)] = await mail_to(smtp_server, database, "confirm@example.org")

        token = token_in(text)
        [row] = await _outbox_rows(database, "fundraiser:confirm:")
        assert row.status is MailStatus.SENT
        assert token not in row.text and token not in row.html
        assert row.text == row.html == REMOVED

    async def test_a_sent_sign_in_link_keeps_no_token(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        await live_page(client, database, smtp_server, campaign["slug"], email="owner@example.org")
        async with database.transaction() as session:
            await fundraising.request_manage_link(
                session, campaign_slug=campaign["slug"], email="owner@example.org", language="en"
            )

        mails = [m for m in await mail_to(smtp_server, database, "owner@example.org") if "sign-in" in m[0]]

        token = token_in(mails[-1][2], SIGN_IN_LINK)
        [row] = await _outbox_rows(database, "fundraiser:sign-in:")
        assert row.status is MailStatus.SENT
        assert token not in row.text and token not in row.html
        assert row.text == row.html == REMOVED

    async def test_a_given_up_confirmation_keeps_no_token(
        self, client: httpx.AsyncClient, database: Database, smtp_server: SmtpServer
    ) -> None:
        campaign = await p2p_campaign(client, database)
        smtp_server.answers.append("550 5.1.1 No such user")
        await start(client, campaign["slug"], email="bounced@example.org")

        assert await mail_to(smtp_server, database, "bounced@example.org") == []

        [row] = await _outbox_rows(database, "fundraiser:confirm:")
        assert row.status is MailStatus.FAILED
        assert row.text == row.html == REMOVED
