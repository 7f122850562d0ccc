"""The daily digest: once per member and day, in the organisation's own day, never empty."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
import sqlalchemy as sa

from campaigns.notifications.digest import send_member_digests
from campaigns.notifications.models import MemberDigest
from service.clock import SettableClock
from service.db import Database
from service.settings import Settings
from tests.campaigns.notifications.helpers import (
    add_member,
    confirmed_gift,
    organisation,
    set_notifications,
    to,
)
from tests.mail_server import SmtpServer, parts

START = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
"""11:00 in Amsterdam, where the organisations of these tests keep their days (country NL)."""


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
async def database(settings: Settings, clock: SettableClock) -> AsyncIterator[Database]:
    db = Database.from_url(settings.database_url, clock=clock)
    yield db
    await db.dispose()


async def digests_of(database: Database, member_id: str) -> dict[date, int]:
    async with database.transaction() as session:
        rows = await session.execute(
            sa.select(MemberDigest.day, MemberDigest.gift_count).where(
                MemberDigest.member_id == uuid.UUID(member_id)
            )
        )
        return {day: count for day, count in rows}


class TestDailyDigest:
    async def test_once_a_day_from_seven_in_the_morning_and_never_for_a_day_without_gifts(
        self,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        smtp_server: SmtpServer,
        clock: SettableClock,
    ) -> None:
        org = await organisation(client, database, country="NL", name="Stichting Warme Maaltijd")
        editor = "editor-digest@harbor-relief.org"
        editor_id = await add_member(client, org.org, editor)
        viewer_id = await add_member(client, org.org, "viewer-digest@harbor-relief.org", role="viewer")
        await set_notifications(client, org.org, editor_id, gift_emails="daily", language="en")
        await set_notifications(client, org.org, viewer_id, gift_emails="none")
        await smtp_server.deliver(database)  # the invitations
        await confirmed_gift(client, database, settings, org.campaign, amount_minor=2500)
        await confirmed_gift(
            client, database, settings, org.campaign, amount_minor=1000, name=None, message="Warm soup!"
        )

        await send_member_digests(database)  # 3 December: yesterday had no gifts
        clock.set(datetime(2026, 12, 4, 5, 59, tzinfo=UTC))  # 06:59 in Amsterdam
        await send_member_digests(database)
        assert await smtp_server.deliver(database) == []

        clock.set(datetime(2026, 12, 4, 6, 0, tzinfo=UTC))  # 07:00 in Amsterdam
        await send_member_digests(database)
        await send_member_digests(database)
        arrived = await smtp_server.deliver(database)
        clock.set(datetime(2026, 12, 4, 22, 0, tzinfo=UTC))
        await send_member_digests(database)
        assert await smtp_server.deliver(database) == []

        assert sorted(m["To"] for m in arrived) == sorted([org.org.email, editor])
        [dutch] = to(arrived, org.org.email)
        assert dutch["Subject"] == "2 giften op 3 december 2026"
        text, html = parts(dutch)
        assert "Op 3 december 2026 ontving Stichting Warme Maaltijd 2 giften:" in text
        assert "Totaal: €\xa035,00" in text
        assert "van Anna de Vries voor Winter meals" in text and "van een donateur voor Winter meals" in text
        assert "Warm soup!" in html
        [english] = to(arrived, editor)
        assert english["Subject"] == "2 gifts on December 3, 2026"
        assert "Total: €35.00" in parts(english)[0]
        # Made once per member and day; the empty day too, so it is never looked at again.
        assert await digests_of(database, org.owner_id) == {date(2026, 12, 2): 0, date(2026, 12, 3): 2}
        assert await digests_of(database, viewer_id) == {}

        clock.set(datetime(2026, 12, 5, 7, 0, tzinfo=UTC))
        await send_member_digests(database)
        assert await smtp_server.deliver(database) == []
        assert (await digests_of(database, editor_id))[date(2026, 12, 4)] == 0

    async def test_a_gift_counts_on_the_organisations_own_day(
        self,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        smtp_server: SmtpServer,
        clock: SettableClock,
    ) -> None:
        org = await organisation(client, database, country="NL")
        clock.set(datetime(2026, 12, 4, 22, 30, tzinfo=UTC))  # 23:30 on 4 December in Amsterdam
        await confirmed_gift(client, database, settings, org.campaign, amount_minor=500)
        clock.set(datetime(2026, 12, 4, 23, 30, tzinfo=UTC))  # 00:30 on 5 December in Amsterdam
        await confirmed_gift(client, database, settings, org.campaign, amount_minor=700)

        clock.set(datetime(2026, 12, 5, 6, 0, tzinfo=UTC))
        await send_member_digests(database)
        [fourth] = await smtp_server.deliver(database)
        clock.set(datetime(2026, 12, 6, 6, 0, tzinfo=UTC))
        await send_member_digests(database)
        [fifth] = await smtp_server.deliver(database)

        assert fourth["Subject"] == "1 gift op 4 december 2026"
        assert "€\xa05,00" in parts(fourth)[0] and "€\xa07,00" not in parts(fourth)[0]
        assert fifth["Subject"] == "1 gift op 5 december 2026"
        assert "€\xa07,00" in parts(fifth)[0]

    async def test_members_who_chose_each_gift_get_no_digest(
        self,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        smtp_server: SmtpServer,
        clock: SettableClock,
    ) -> None:
        org = await organisation(client, database)
        await set_notifications(client, org.org, org.owner_id, gift_emails="each")
        await confirmed_gift(client, database, settings, org.campaign)
        [each] = await smtp_server.deliver(database)

        clock.set(datetime(2026, 12, 4, 12, 0, tzinfo=UTC))
        await send_member_digests(database)

        assert each["Subject"].startswith("New gift:")
        assert await smtp_server.deliver(database) == []
        assert await digests_of(database, org.owner_id) == {}
