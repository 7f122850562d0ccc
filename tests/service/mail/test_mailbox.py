"""/_sandbox/mail: development captures mail instead of sending it, and shows it as received."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from service.app import create_app
from service.db import Database
from service.mail import outbox
from service.mail.compose import compose
from service.mail.models import MailboxMessage, MailMessage, MailStatus
from service.mail.sender import job, transport_for
from service.mail.transports import MailboxTransport
from service.settings import Environment, Settings
from tests.campaigns.dashboard.helpers import csrf_token_in

MAILBOX = "/_sandbox/mail/"
PDF = b"%PDF-1.7\n%receipt\n"


async def capture(
    database: Database, settings: Settings, *, key: str = "receipt:1", language: str = "nl"
) -> None:
    rendered = compose(
        "mailbox",
        "sample",
        language=language,
        name="Anna",
        amount_minor=2500,
        currency="eur",
        day=date(2026, 12, 5),
    )
    email = rendered.email(
        to="anna@example.org",
        attachments=(outbox.Attachment("ontvangstbewijs-2026-000001.pdf", "application/pdf", PDF),),
    )
    async with database.transaction() as session:
        await outbox.enqueue(session, key=key, email=email)
    # The worker's own job, with the transport development gets: the sandbox mailbox.
    assert await job(settings).run(database) == 1


async def only_message_id(database: Database) -> uuid.UUID:
    async with database.transaction() as session:
        [found] = (await session.scalars(sa.select(MailboxMessage.id))).all()
    return found


class TestCapture:
    async def test_without_an_smtp_url_mail_is_captured_and_marked_sent(
        self, app: Starlette, database: Database, settings: Settings
    ) -> None:
        await capture(database, settings)

        async with database.transaction() as session:
            captured = (await session.scalars(sa.select(MailboxMessage))).one()
            row = (await session.scalars(sa.select(MailMessage))).one()
        assert isinstance(transport_for(settings, database), MailboxTransport)
        assert captured.recipient == "anna@example.org"
        assert captured.subject == "Een bericht van Goodloop"
        assert captured.raw.startswith(b"From: Goodloop <noreply@goodloop.invalid>\r\n")
        assert b"\r\nContent-Language: nl\r\n" in captured.raw
        assert row.status is MailStatus.SENT

    def test_production_never_captures(self, settings: Settings, database: Database) -> None:
        production = dataclasses.replace(settings, env=Environment.PRODUCTION)

        with pytest.raises(RuntimeError, match="never the sandbox mailbox"):
            transport_for(production, database)


class TestMailboxPages:
    async def test_the_list_shows_recipient_and_subject_newest_first(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        await capture(database, settings, key="first", language="en")
        await capture(database, settings, key="second", language="nl")

        page = await client.get(MAILBOX)
        bare = await client.get("/_sandbox/mail")

        assert page.status_code == 200
        assert page.text.index("Een bericht van Goodloop") < page.text.index("A message from Goodloop")
        assert page.text.count("anna@example.org") == 2
        assert (bare.status_code, bare.headers["location"]) == (303, MAILBOX)

    async def test_a_message_shows_as_received_with_text_headers_and_attachments(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        await capture(database, settings)
        message_id = await only_message_id(database)

        page = await client.get(f"{MAILBOX}{message_id}")
        frame = await client.get(f"{MAILBOX}{message_id}/html")
        pdf = await client.get(f"{MAILBOX}{message_id}/attachments/0")
        raw = await client.get(f"{MAILBOX}{message_id}/raw")

        assert page.status_code == 200
        assert f'src="/_sandbox/mail/{message_id}/html"' in page.text
        assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page.text
        assert (
            "Zo ziet een e-mail van Goodloop eruit: je gift van €\xa025,00 op 5 december 2026." in page.text
        )
        assert "Message-ID" in page.text and "ontvangstbewijs-2026-000001.pdf" in page.text
        assert frame.status_code == 200
        assert "script-src" not in frame.headers["content-security-policy"]
        assert frame.headers["content-security-policy"].startswith("default-src 'none'")
        assert '<base target="_blank">' in frame.text
        assert 'href="http://testserver/"' in frame.text  # links stay absolute and clickable
        assert (pdf.status_code, pdf.content, pdf.headers["content-type"]) == (200, PDF, "application/pdf")
        assert raw.content.startswith(b"From: ")

    async def test_unknown_messages_and_attachments_are_404(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        await capture(database, settings)
        message_id = await only_message_id(database)

        assert (await client.get(f"{MAILBOX}{uuid.uuid4()}")).status_code == 404
        assert (await client.get(f"{MAILBOX}{uuid.uuid4()}/html")).status_code == 404
        assert (await client.get(f"{MAILBOX}{message_id}/attachments/1")).status_code == 404

    async def test_clear_needs_the_forms_token_and_then_empties_the_mailbox(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        await capture(database, settings)
        token = csrf_token_in((await client.get(MAILBOX)).text)

        forged = await client.post(f"{MAILBOX}clear", data={"csrf_token": "forged"})
        still = await only_message_id(database)
        cleared = await client.post(f"{MAILBOX}clear", data={"csrf_token": token})
        after = await client.get(MAILBOX)

        assert forged.status_code == 403
        assert still is not None
        assert cleared.status_code == 303
        assert "Mailbox cleared (1 message)." in after.text
        assert "anna@example.org" not in after.text


class TestWhereTheMailboxIsNot:
    @pytest.mark.parametrize(
        "changes",
        [{"env": Environment.PRODUCTION}, {"smtp_url": "smtp://127.0.0.1:2525"}],
        ids=["production", "smtp_configured"],
    )
    async def test_absent(self, settings: Settings, database: Database, changes: dict[str, object]) -> None:
        app = create_app(dataclasses.replace(settings, **changes), database=database)  # type: ignore[arg-type]

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            listed = await http.get(MAILBOX)
            bare = await http.get("/_sandbox/mail")

        assert (listed.status_code, bare.status_code) == (404, 404)
