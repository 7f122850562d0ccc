"""The sender's limits: a batch never outlives its lease, and a message that cannot be built
is refused alone (the rest of its batch is still sent and recorded)."""

from __future__ import annotations

import email.policy
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from typing import Any, cast

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from service.clock import SettableClock
from service.db import Database
from service.mail import outbox
from service.mail.models import MailMessage, MailStatus
from service.mail.sender import send_due
from service.mail.smtp_url import parse_smtp_url
from service.mail.transports import SmtpTransport
from service.settings import Settings
from tests.live_server import free_port
from tests.mail_server import TEST_MAIL_FROM, SmtpServer

START = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
SECONDS_PER_MESSAGE = 100.0
"""How long the slow server takes over each message, on the transport's clock."""


class SlowServer:
    """A real SMTP server whose every message takes SECONDS_PER_MESSAGE on `now` (the clock
    the transport is handed): a slow server without a slow test."""

    def __init__(self) -> None:
        self.now = 0.0
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.now += SECONDS_PER_MESSAGE
        raw = cast(bytes, envelope.original_content or envelope.content)
        self.messages.append(message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default))
        return "250 2.0.0 OK"

    def transport(self, *, budget_s: float) -> SmtpTransport:
        return SmtpTransport(
            parse_smtp_url(f"smtp://127.0.0.1:{self.port}"), budget_s=budget_s, clock=lambda: self.now
        )


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    server = SlowServer()
    server._controller.start()
    yield server
    server._controller.stop()


@pytest.fixture
async def timed(settings: Settings) -> AsyncIterator[Database]:
    db = Database.from_url(settings.database_url, clock=SettableClock(START))
    yield db
    await db.dispose()


def an_email(to: str = "anna@example.org") -> outbox.Email:
    return outbox.Email(
        to=to, subject="Hallo", text="Dank je wel.\n", html="<p>Dank je wel.</p>", language="nl"
    )


async def enqueue(database: Database, *keys: str) -> None:
    async with database.transaction() as session:
        for key in keys:
            await outbox.enqueue(session, key=key, email=an_email())


async def rows(database: Database) -> dict[str, tuple[MailStatus, int]]:
    async with database.transaction() as session:
        found = (await session.scalars(sa.select(MailMessage))).all()
        return {r.key: (r.status, r.attempts) for r in found}


class TestTheBatchStopsInsideItsLease:
    async def test_messages_past_the_budget_go_back_unsent_and_uncounted(
        self, timed: Database, slow_server: SlowServer
    ) -> None:
        await enqueue(timed, "m:1", "m:2", "m:3", "m:4")
        # 150 s of budget, 100 s a message: the first two start in time, the rest would not.
        transport = slow_server.transport(budget_s=150)

        assert await send_due(timed, transport, mail_from=TEST_MAIL_FROM) == 4

        assert len(slow_server.messages) == 2
        # Two sent (their attempt counted); two queued again, no attempt counted.
        assert sorted((await rows(timed)).values()) == [
            (MailStatus.QUEUED, 0),
            (MailStatus.QUEUED, 0),
            (MailStatus.SENT, 1),
            (MailStatus.SENT, 1),
        ]
        # Due again at once (the clock has not moved): the next pass sends them, once each.
        slow_server.now = 0.0
        assert await send_due(timed, transport, mail_from=TEST_MAIL_FROM) == 2
        assert len({str(m["Message-ID"]) for m in slow_server.messages}) == len(slow_server.messages) == 4
        assert {s for s, _ in (await rows(timed)).values()} == {MailStatus.SENT}

    async def test_the_default_budget_sends_a_whole_quick_batch(
        self, database: Database, smtp_server: SmtpServer
    ) -> None:
        await enqueue(database, "q:1", "q:2", "q:3")

        arrived = await smtp_server.deliver(database)

        assert len(arrived) == 3


class TestAMessageThatCannotBeBuilt:
    async def test_is_refused_for_good_and_the_rest_is_sent(
        self, database: Database, smtp_server: SmtpServer
    ) -> None:
        await enqueue(database, "b:1", "b:2", "b:3")
        async with database.transaction() as session:
            # Not possible through enqueue (it checks the address); an old row or a bug could.
            await session.execute(
                sa.update(MailMessage)
                .where(MailMessage.key == "b:2")
                .values(recipient="anna@example.org\nBcc: eve@example.org")
            )

        arrived = await smtp_server.deliver(database)

        assert sorted(str(m["To"]) for m in arrived) == ["anna@example.org", "anna@example.org"]
        found = await rows(database)
        assert found == {
            "b:1": (MailStatus.SENT, 1),
            "b:2": (MailStatus.FAILED, 1),
            "b:3": (MailStatus.SENT, 1),
        }
        async with database.transaction() as session:
            error = await session.scalar(sa.select(MailMessage.last_error).where(MailMessage.key == "b:2"))
        assert error is not None and error.startswith("not built: ValueError")


class TestOneTimeLinksLeaveNoCopy:
    TOKEN = "tok_3J9xQ2mZ8vLw"

    def with_link(self) -> outbox.Email:
        url = f"http://testserver/reset/{self.TOKEN}"
        return outbox.Email(
            to="anna@example.org",
            subject="Reset your password",
            text=f"Open {url}\n",
            html=f'<p><a href="{url}">Reset</a></p>',
            language="en",
        )

    async def bodies(self, database: Database, key: str) -> tuple[str, str]:
        async with database.transaction() as session:
            found = await session.scalar(sa.select(MailMessage).where(MailMessage.key == key))
            assert found is not None
            return found.text, found.html

    @pytest.mark.parametrize("key", ["password_reset:1", "portal:sign-in:1", "invite:1"])
    async def test_sent_message_keeps_no_token(
        self, database: Database, smtp_server: SmtpServer, key: str
    ) -> None:
        async with database.transaction() as session:
            await outbox.enqueue(session, key=key, email=self.with_link())

        [arrived] = await smtp_server.deliver(database)

        assert self.TOKEN in arrived.as_string()
        text, html = await self.bodies(database, key)
        assert self.TOKEN not in text and self.TOKEN not in html
        assert text == html == "(removed once sent: it held a one-time link)"

    async def test_given_up_message_keeps_no_token(self, database: Database, smtp_server: SmtpServer) -> None:
        async with database.transaction() as session:
            await outbox.enqueue(session, key="password_reset:2", email=self.with_link())
        smtp_server.answers.append("550 5.1.1 No such user")

        assert await smtp_server.deliver(database) == []

        assert (await rows(database))["password_reset:2"] == (MailStatus.FAILED, 1)
        text, html = await self.bodies(database, "password_reset:2")
        assert self.TOKEN not in text and self.TOKEN not in html

    async def test_other_messages_keep_their_bodies(
        self, database: Database, smtp_server: SmtpServer
    ) -> None:
        async with database.transaction() as session:
            await outbox.enqueue(session, key="receipt:1", email=self.with_link())

        await smtp_server.deliver(database)

        text, _ = await self.bodies(database, "receipt:1")
        assert self.TOKEN in text
