"""New-gift emails: each member chooses each gift, a daily digest (the default) or none; an
"each gift" member gets one email per confirmed gift however often Stripe delivers its events."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import sqlalchemy as sa

from campaigns import facts
from campaigns.notifications.listener import LISTENER
from service.db import Database
from service.mail.models import MailMessage
from service.settings import Settings
from tests.campaigns.notifications.helpers import (
    add_member,
    confirmed_gift,
    organisation,
    set_notifications,
    to,
)
from tests.mail_server import SmtpServer, parts


class TestEachGift:
    async def test_one_email_per_gift_to_each_member_who_chose_it_however_often_events_arrive(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        org = await organisation(client, database)
        editor = "editor-each@harbor-relief.org"
        editor_id = await add_member(client, org.org, editor)
        viewer = "viewer-none@harbor-relief.org"
        viewer_id = await add_member(client, org.org, viewer, role="viewer")
        assert (await set_notifications(client, org.org, org.owner_id, gift_emails="each")).status_code == 200
        assert (await set_notifications(client, org.org, editor_id, gift_emails="each")).status_code == 200
        assert (await set_notifications(client, org.org, viewer_id, gift_emails="none")).status_code == 200
        await smtp_server.deliver(database)  # the invitations

        payment = await confirmed_gift(
            client,
            database,
            settings,
            org.campaign,
            amount_minor=4200,
            message="For the soup kitchen",
            times=3,
        )
        arrived = await smtp_server.deliver(database)

        assert sorted(m["To"] for m in arrived) == sorted([org.org.email, editor])
        [owner_mail] = to(arrived, org.org.email)
        assert owner_mail["Subject"] == "New gift: €42.00 for Winter meals"
        text, html = parts(owner_mail)
        assert "Anna de Vries gave €42.00 to Winter meals." in text
        assert "For the soup kitchen" in text and "For the soup kitchen" in html
        assert f"http://testserver/dashboard/campaigns/{org.campaign.id}" in text
        # Replaying the fact itself (a listener run twice) enqueues nothing new either.
        async with database.transaction() as session:
            await LISTENER.on_fact(session, confirmed_fact(org.campaign.nonprofit_id, payment.donation_id))
        assert await smtp_server.deliver(database) == []
        async with database.transaction() as session:
            keys = set(
                await session.scalars(sa.select(MailMessage.key).where(MailMessage.key.like("member:%")))
            )
        assert keys == {
            f"member:{org.owner_id}:donation:{payment.donation_id}:confirmed",
            f"member:{editor_id}:donation:{payment.donation_id}:confirmed",
        }

    async def test_by_default_nobody_gets_an_email_per_gift(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        org = await organisation(client, database)

        await confirmed_gift(client, database, settings, org.campaign)

        assert await smtp_server.deliver(database) == []

    async def test_a_dutch_organisations_members_read_dutch_until_they_choose(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, smtp_server: SmtpServer
    ) -> None:
        org = await organisation(client, database, country="NL")
        settings_now = await client.get(
            f"/api/v1/members/{org.owner_id}/notifications", headers=org.org.headers
        )
        assert settings_now.json() == {
            "member_id": org.owner_id,
            "gift_emails": "daily",
            "money_emails": True,
            "language": "nl",
            "chosen": False,
        }
        changed = await set_notifications(client, org.org, org.owner_id, gift_emails="each", language="nl")
        assert changed.status_code == 200

        await confirmed_gift(client, database, settings, org.campaign, amount_minor=125000)
        [mail] = await smtp_server.deliver(database)

        assert mail["Subject"] == "Nieuwe gift: € 1.250,00 voor Winter meals"
        assert mail["Content-Language"] == "nl"
        text, _ = parts(mail)
        assert "Anna de Vries gaf €\xa01.250,00 aan Winter meals." in text


def confirmed_fact(nonprofit_id: object, donation_id: object) -> facts.Fact:
    import uuid

    return facts.Fact(
        type=facts.DONATION_CONFIRMED,
        key=f"donation:{donation_id}:confirmed",
        nonprofit_id=uuid.UUID(str(nonprofit_id)),
        subject_id=uuid.UUID(str(donation_id)),
        occurred_at=datetime.now(UTC),
        data={},
    )
