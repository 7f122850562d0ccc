"""A real SMTP server for the suite (aiosmtpd), and the helpers that read what arrived.

Email is never tested by reading the outbox table alone: send it through the real sender to
this server and read the parsed messages.

    from tests.mail_server import SmtpServer, deliver_mail, parts

    async def test_receipt_arrives(database: Database, smtp_server: SmtpServer) -> None:
        async with database.transaction() as session:
            await my_use_case(session, ...)              # calls service.mail.outbox.enqueue

        [message] = await smtp_server.deliver(database)   # runs the send job until nothing is due
        assert message["To"] == "donor@example.org"
        text, html = parts(message)                      # the text/plain and text/html bodies
        assert "2026-000001" in text
        [pdf] = attachments(message)                     # (filename, content_type, bytes)

- `smtp_server` (fixture): `.url` (`smtp://127.0.0.1:<port>`), `.messages` (every
  `email.message.EmailMessage` that arrived in this test, in arrival order), `.envelopes`
  (`(mail_from, [rcpt...])`), `.logins` (`(user, password)` pairs), and `.answers`: strings
  the server gives instead of `250 OK` to the next DATA commands, one each
  (`smtp_server.answers.extend(["451 4.3.0 Try again later"])`).
- `await smtp_server.deliver(database)` sends every due outbox row to this server (the real
  `service.mail.sender.send_due` and SMTP transport) and returns what arrived meanwhile.
- `mail_settings` (fixture): the suite's `settings` with GOODLOOP_SMTP_URL pointing here and a
  sender `Goodloop <receipts@goodloop.test>`; `await deliver_mail(database, mail_settings)` is
  the same as `smtp_server.deliver(database)`, through the settings as the worker reads them.
- Links: emails build absolute links from route names (service.mail.links). Every test starts
  with them pointing at `http://testserver` (the suite's PUBLIC_BASE_URL), whatever app an
  earlier test built, so a use case composing mail needs no app of its own.
- Time: rows backing off are due again only when the database's clock passes their
  `next_attempt_at` (build the Database on a `SettableClock` and `advance` it).
"""

from __future__ import annotations

import dataclasses
import email.policy
from collections import deque
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from starlette.routing import Router

from service.app import create_app
from service.db import Database
from service.mail import links
from service.mail.sender import send_due, transport_for
from service.mail.smtp_url import parse_smtp_url
from service.mail.transports import SmtpTransport
from service.settings import Settings
from tests.live_server import free_port

TEST_MAIL_FROM = "Goodloop <receipts@goodloop.test>"
MAX_PASSES = 100


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.server.answers:
            return self.server.answers.popleft()
        raw = cast(bytes, envelope.original_content or envelope.content)
        # Parsed as a mail client reads it: line ends are the reader's, not the wire's CRLF.
        message = message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
        self.server.raw.append(raw)
        self.server.envelopes.append((str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos]))
        self.server.messages.append(message)
        return "250 2.0.0 OK"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[tuple[str, str]] = []
        self.answers: deque[str] = deque()
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
        )

    def _authenticate(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=True)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def reset(self) -> None:
        self.messages.clear()
        self.raw.clear()
        self.envelopes.clear()
        self.logins.clear()
        self.answers.clear()

    async def deliver(self, database: Database, *, mail_from: str = TEST_MAIL_FROM) -> list[EmailMessage]:
        """Run the sender against this server until no row is due; what arrived meanwhile."""
        return await _deliver(database, SmtpTransport(parse_smtp_url(self.url)), self, mail_from)


async def _deliver(
    database: Database, transport: Any, server: SmtpServer, mail_from: str
) -> list[EmailMessage]:
    before = len(server.messages)
    for _ in range(MAX_PASSES):
        # Rows a 4xx sent back to the queue are due again only later on the clock.
        if await send_due(database, transport, mail_from=mail_from) == 0:
            break
    return server.messages[before:]


async def deliver_mail(database: Database, settings: Settings) -> list[EmailMessage]:
    """The worker's way: the transport the settings choose (they must point at smtp_server)."""
    if settings.smtp_url is None:
        raise AssertionError("deliver_mail needs settings with smtp_url (use the mail_settings fixture)")
    server = _SERVERS.get(parse_smtp_url(settings.smtp_url).port)
    if server is None:
        raise AssertionError("settings.smtp_url is not the suite's SMTP server")
    return await _deliver(database, transport_for(settings, database), server, settings.mail_from)


_SERVERS: dict[int, SmtpServer] = {}
TEST_PUBLIC_BASE_URL = "http://testserver"


@pytest.fixture(scope="session")
def _mail_router(tmp_path_factory: pytest.TempPathFactory) -> Router:
    settings = Settings(
        database_url="sqlite+aiosqlite:///:memory:",
        secret_key="mail-links-test-secret-key-long-enough",
        public_base_url=TEST_PUBLIC_BASE_URL,
        data_dir=tmp_path_factory.mktemp("mail-links"),
        log_json=False,
    )
    return create_app(settings).router


@pytest.fixture(autouse=True)
def _mail_links(_mail_router: Router) -> None:
    # A test's app (or a live server on another port) re-registers its own; the next test
    # must not inherit it.
    links.configure(public_base_url=TEST_PUBLIC_BASE_URL, router=_mail_router)


@pytest.fixture(scope="session")
def _smtp_server_running() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    _SERVERS[server.port] = server
    yield server
    server.stop()


@pytest.fixture
def smtp_server(_smtp_server_running: SmtpServer) -> Iterator[SmtpServer]:
    _smtp_server_running.reset()
    yield _smtp_server_running
    _smtp_server_running.reset()


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return dataclasses.replace(settings, smtp_url=smtp_server.url, mail_from=TEST_MAIL_FROM)


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text/plain and text/html bodies of a message."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "a message has a text and an HTML part"
    return cast(EmailMessage, text).get_content(), cast(EmailMessage, html).get_content()


def attachments(message: EmailMessage) -> list[tuple[str, str, bytes]]:
    """(filename, content type, content) of each attachment, in order."""
    return [
        (part.get_filename() or "", part.get_content_type(), cast(bytes, part.get_payload(decode=True)))
        for part in message.iter_attachments()
    ]
