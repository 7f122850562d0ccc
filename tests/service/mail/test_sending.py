"""The outbox and the sender, through a real SMTP server (tests/mail_server.py) on both backends."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from service.clock import SettableClock
from service.db import Database
from service.mail import outbox
from service.mail.models import MailAttachment, MailMessage, MailStatus
from service.mail.retention import PURGED, RETAIN_BODIES, purge
from service.mail.sender import LEASE, MAX_ATTEMPTS, backoff, claim_due, send_due
from service.mail.smtp_url import parse_smtp_url
from service.mail.transports import SmtpTransport
from service.settings import Settings
from tests.mail_server import TEST_MAIL_FROM, SmtpServer, attachments, deliver_mail, parts
from tests.service.log_capture import Logs

START = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def sent_count() -> float:
    return REGISTRY.get_sample_value("goodloop_mail_sent_total", {"transport": "smtp"}) or 0.0


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
async def timed(settings: Settings, clock: SettableClock) -> AsyncIterator[Database]:
    """The test's database on a clock the test moves."""
    db = Database.from_url(settings.database_url, clock=clock)
    yield db
    await db.dispose()


def an_email(**changes: object) -> outbox.Email:
    fields: dict[str, object] = {
        "to": "anna@example.org",
        "subject": "Je ontvangstbewijs 2026-000001",
        "text": "Dank je wel voor je gift.\n",
        "html": "<p>Dank je wel voor je <b>gift</b>.</p>",
        "language": "nl",
    }
    return outbox.Email(**{**fields, **changes})  # type: ignore[arg-type]


async def enqueue(database: Database, key: str, email: outbox.Email | None = None) -> bool:
    async with database.transaction() as session:
        return await outbox.enqueue(session, key=key, email=email or an_email())


async def row(database: Database, key: str) -> MailMessage:
    async with database.transaction() as session:
        found = await session.scalar(sa.select(MailMessage).where(MailMessage.key == key))
        assert found is not None
        return found


class TestEnqueue:
    async def test_the_same_key_twice_sends_once(self, database: Database, smtp_server: SmtpServer) -> None:
        first = await enqueue(database, "receipt:1")
        again = await enqueue(database, "receipt:1", an_email(subject="another subject"))

        arrived = await smtp_server.deliver(database)

        assert (first, again) == (True, False)
        assert [m["Subject"] for m in arrived] == ["Je ontvangstbewijs 2026-000001"]
        assert await smtp_server.deliver(database) == []

    async def test_a_transaction_that_raises_sends_nothing(
        self, database: Database, smtp_server: SmtpServer
    ) -> None:
        async def cause_that_fails() -> None:
            async with database.transaction() as session:
                await outbox.enqueue(session, key="receipt:2", email=an_email())
                raise RuntimeError("the cause failed")

        with pytest.raises(RuntimeError, match="the cause failed"):
            await cause_that_fails()

        assert await smtp_server.deliver(database) == []
        # The key is free again: the cause, retried, sends its message.
        assert await enqueue(database, "receipt:2")

    @pytest.mark.parametrize(
        ("change", "why"),
        [
            ({"to": "Anna <anna@example.org>"}, "plain address"),
            ({"to": "a@example.org, b@example.org"}, "plain address"),
            ({"subject": "two\nlines"}, "one line"),
            ({"language": "de"}, "unknown language"),
            ({"attachments": (outbox.Attachment("../x.pdf", "application/pdf", b""),)}, "bad attachment"),
        ],
    )
    async def test_a_message_that_cannot_be_sent_is_refused(
        self, database: Database, change: dict[str, object], why: str
    ) -> None:
        with pytest.raises(ValueError, match=why):
            await enqueue(database, "bad", an_email(**change))


class TestMessage:
    async def test_text_html_and_attachments_arrive(
        self, database: Database, smtp_server: SmtpServer
    ) -> None:
        pdf = b"%PDF-1.7\n" + bytes(range(256)) * 4
        email = an_email(
            attachments=(
                outbox.Attachment("ontvangstbewijs-2026-000001.pdf", "application/pdf", pdf),
                outbox.Attachment("giften.csv", "text/csv", "datum;bedrag\n2026-12-05;€ 25,00\n".encode()),
            ),
            reply_to="info@stichting.example",
        )
        await enqueue(database, "receipt:3", email)

        [message] = await smtp_server.deliver(database)

        text, html = parts(message)
        assert text == "Dank je wel voor je gift.\n"
        assert "<b>gift</b>" in html
        assert message.get_content_type() == "multipart/mixed"
        assert attachments(message) == [
            ("ontvangstbewijs-2026-000001.pdf", "application/pdf", pdf),
            ("giften.csv", "text/csv", "datum;bedrag\n2026-12-05;€ 25,00\n".encode()),
        ]
        assert message["From"] == TEST_MAIL_FROM
        assert message["To"] == "anna@example.org"
        assert message["Reply-To"] == "info@stichting.example"
        assert message["Content-Language"] == "nl"
        assert smtp_server.envelopes == [("receipts@goodloop.test", ["anna@example.org"])]

    async def test_without_attachments_it_is_text_and_html_alternatives(
        self, database: Database, smtp_server: SmtpServer
    ) -> None:
        await enqueue(database, "welcome:1", an_email(language="en", subject="Welcome"))

        [message] = await smtp_server.deliver(database)

        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        assert message["Content-Language"] == "en"

    async def test_message_id_follows_from_the_key_and_date_from_the_clock(
        self, timed: Database, smtp_server: SmtpServer
    ) -> None:
        await enqueue(timed, "receipt:4")

        [message] = await smtp_server.deliver(timed)

        digest = hashlib.sha256(b"receipt:4").hexdigest()[:40]
        assert message["Message-ID"] == f"<{digest}@goodloop.test>"
        assert parsedate_to_datetime(message["Date"]) == START
        assert (await row(timed, "receipt:4")).message_id == f"<{digest}@goodloop.test>"

    async def test_a_non_ascii_subject_and_recipient_name_survive(
        self, database: Database, smtp_server: SmtpServer
    ) -> None:
        await enqueue(database, "k", an_email(subject="Bedankt, Zoë! € 25,00 voor Stichting Één"))

        [message] = await smtp_server.deliver(database)

        assert message["Subject"] == "Bedankt, Zoë! € 25,00 voor Stichting Één"


class TestRetries:
    async def test_a_4xx_answer_is_retried_after_the_backoff(
        self, timed: Database, clock: SettableClock, smtp_server: SmtpServer
    ) -> None:
        await enqueue(timed, "receipt:5")
        smtp_server.answers.extend(["451 4.3.0 Try again later", "451 4.3.0 Try again later"])

        assert await smtp_server.deliver(timed) == []
        first = await row(timed, "receipt:5")
        clock.advance(backoff(1) - timedelta(seconds=1))
        assert await smtp_server.deliver(timed) == []  # not due yet: nothing was tried
        clock.advance(timedelta(seconds=1))
        assert await smtp_server.deliver(timed) == []  # due, refused again
        second = await row(timed, "receipt:5")
        clock.advance(backoff(2))
        arrived = await smtp_server.deliver(timed)

        assert (first.status, first.attempts, first.next_attempt_at) == (
            MailStatus.QUEUED,
            1,
            START + backoff(1),
        )
        assert first.last_error == "451 4.3.0 Try again later"
        assert (second.attempts, second.next_attempt_at) == (2, START + backoff(1) + backoff(2))
        assert [m["Subject"] for m in arrived] == ["Je ontvangstbewijs 2026-000001"]
        sent = await row(timed, "receipt:5")
        assert (sent.status, sent.attempts, sent.sent_at, sent.last_error) == (
            MailStatus.SENT,
            3,
            START + backoff(1) + backoff(2),
            None,
        )

    def test_backoff_doubles_up_to_its_cap(self) -> None:
        waits = [backoff(n) for n in range(1, MAX_ATTEMPTS + 1)]

        assert waits[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
        assert max(waits) == timedelta(hours=6)

    async def test_a_5xx_answer_stops_for_good(
        self, timed: Database, clock: SettableClock, smtp_server: SmtpServer
    ) -> None:
        await enqueue(timed, "receipt:6")
        smtp_server.answers.append("550 5.1.1 No such user")

        assert await smtp_server.deliver(timed) == []
        clock.advance(timedelta(days=2))

        assert await smtp_server.deliver(timed) == []
        failed = await row(timed, "receipt:6")
        assert (failed.status, failed.attempts, failed.last_error) == (
            MailStatus.FAILED,
            1,
            "550 5.1.1 No such user",
        )

    async def test_a_refusal_mid_batch_leaves_the_rest_of_the_batch_sent(
        self, timed: Database, smtp_server: SmtpServer
    ) -> None:
        for n in range(3):
            await enqueue(timed, f"batch:{n}", an_email(subject=f"message {n}"))
        smtp_server.answers.append("550 5.7.1 Refused")
        sent_before = sent_count()

        arrived = await smtp_server.deliver(timed)

        rows = [await row(timed, f"batch:{n}") for n in range(3)]
        sent = sorted(r.subject for r in rows if r.status is MailStatus.SENT)
        assert [r.status for r in rows].count(MailStatus.FAILED) == 1
        assert sorted(m["Subject"] for m in arrived) == sent and len(sent) == 2
        assert sent_count() == sent_before + 2

    async def test_attempts_are_capped(
        self, timed: Database, clock: SettableClock, smtp_server: SmtpServer
    ) -> None:
        await enqueue(timed, "receipt:7")
        smtp_server.answers.extend(["421 4.7.0 Busy"] * (MAX_ATTEMPTS + 1))

        for _ in range(MAX_ATTEMPTS + 1):
            await smtp_server.deliver(timed)
            clock.advance(timedelta(hours=7))

        given_up = await row(timed, "receipt:7")
        assert (given_up.status, given_up.attempts) == (MailStatus.FAILED, MAX_ATTEMPTS)
        assert len(smtp_server.answers) == 1

    async def test_a_server_that_is_down_is_retried(
        self, timed: Database, clock: SettableClock, smtp_server: SmtpServer
    ) -> None:
        await enqueue(timed, "receipt:8")
        nobody = SmtpTransport(parse_smtp_url("smtp://127.0.0.1:9"))  # the discard port: refused

        assert await send_due(timed, nobody, mail_from=TEST_MAIL_FROM) == 1
        down = await row(timed, "receipt:8")
        clock.advance(backoff(1))
        arrived = await smtp_server.deliver(timed)

        assert down.status is MailStatus.QUEUED
        assert down.last_error is not None
        assert [m["Subject"] for m in arrived] == ["Je ontvangstbewijs 2026-000001"]

    async def test_a_crashed_senders_rows_come_back_after_the_lease(
        self, timed: Database, clock: SettableClock, smtp_server: SmtpServer
    ) -> None:
        await enqueue(timed, "receipt:9")
        async with timed.transaction() as session:
            claimed = await claim_due(session)  # ...and the sender dies before it sends

        assert await smtp_server.deliver(timed) == []
        clock.advance(LEASE)
        arrived = await smtp_server.deliver(timed)

        assert [c.key for c in claimed] == ["receipt:9"]
        assert len(arrived) == 1
        assert (await row(timed, "receipt:9")).attempts == 2


class TestConcurrentSenders:
    async def test_two_senders_at_once_send_each_message_once(
        self, database: Database, smtp_server: SmtpServer
    ) -> None:
        for n in range(30):
            await enqueue(database, f"many:{n}", an_email(subject=f"message {n}"))
        transport = SmtpTransport(parse_smtp_url(smtp_server.url))

        async def sender() -> int:
            return await send_due(database, transport, mail_from=TEST_MAIL_FROM, limit=10)

        counts = await asyncio.gather(*(sender() for _ in range(4)))
        counts += [await sender() for _ in range(3)]

        subjects = sorted(m["Subject"] for m in smtp_server.messages)
        assert subjects == sorted(f"message {n}" for n in range(30))
        assert sum(counts) == 30


class TestSmtpLogin:
    async def test_user_and_password_in_the_url_log_in_and_are_never_logged(
        self, database: Database, mail_settings: Settings, smtp_server: SmtpServer, json_logs: Logs
    ) -> None:
        url = smtp_server.url.replace("smtp://", "smtp://goodloop%40example.org:p%40ss%3Aw0rd@")
        settings = mail_settings.__class__(**{**mail_settings.__dict__, "smtp_url": url})
        await enqueue(database, "receipt:10")

        arrived = await deliver_mail(database, settings)

        assert len(arrived) == 1
        assert smtp_server.logins == [("goodloop@example.org", "p@ss:w0rd")]
        lines = json_logs()
        assert any(line.get("event") == "mail sent" and line.get("key") == "receipt:10" for line in lines)
        assert "p@ss:w0rd" not in repr(lines) and "p%40ss" not in repr(lines)
        assert "Dank je wel" not in repr(lines)
        assert "w0rd" not in repr(settings) and "w0rd" not in repr(parse_smtp_url(url))


class TestRetention:
    async def test_after_thirty_days_the_words_go_and_the_key_stays(
        self, timed: Database, clock: SettableClock, smtp_server: SmtpServer
    ) -> None:
        pdf = outbox.Attachment("a.pdf", "application/pdf", b"%PDF")
        await enqueue(timed, "receipt:old", an_email(attachments=(pdf,)))
        await smtp_server.deliver(timed)
        await enqueue(timed, "receipt:queued")  # never sent: kept whole, however old

        clock.advance(RETAIN_BODIES - timedelta(seconds=1))
        early = await purge(timed)
        clock.advance(timedelta(seconds=2))
        purged = await purge(timed)
        again = await enqueue(timed, "receipt:old")

        old, queued = await row(timed, "receipt:old"), await row(timed, "receipt:queued")
        async with timed.transaction() as session:
            left = (await session.scalars(sa.select(MailAttachment.id))).all()
        assert (early, purged, again) == (0, 1, False)
        assert (old.status, old.text, old.html, old.subject) == (MailStatus.SENT, "", "", PURGED)
        assert old.message_id is not None
        assert queued.text == "Dank je wel voor je gift.\n"
        assert left == []
