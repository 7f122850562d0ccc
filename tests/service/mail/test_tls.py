"""smtp:// upgrades with STARTTLS and smtps:// speaks TLS from the first byte; in production an
smtp:// server elsewhere that offers no STARTTLS gets nothing, not even the password."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from service.db import Database
from service.mail import outbox
from service.mail.models import MailMessage, MailStatus
from service.mail.sender import send_due
from service.mail.smtp_url import SmtpTarget
from service.mail.transports import SmtpTransport
from tests.live_server import free_port
from tests.mail_server import TEST_MAIL_FROM


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class TlsServer:
    def __init__(
        self, server_context: ssl.SSLContext | None, *, implicit: bool, offer_starttls: bool
    ) -> None:
        self.port = free_port()
        self.arrived: list[tuple[bytes, bool]] = []
        self.logins: list[tuple[str, bool]] = []
        handler = self
        kwargs: dict[str, Any] = {"authenticator": self._authenticate, "auth_require_tls": False}
        if implicit:
            kwargs["ssl_context"] = server_context
        elif offer_starttls:
            kwargs["tls_context"] = server_context
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(
        self, server: SMTP, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            self.logins.append((data.password.decode(), encrypted(server)))
        return AuthResult(success=True)

    async def handle_DATA(self, server: SMTP, _session: Any, envelope: Any) -> str:
        self.arrived.append((bytes(envelope.content), encrypted(server)))
        return "250 OK"


def encrypted(server: SMTP) -> bool:
    return server.transport is not None and server.transport.get_extra_info("sslcontext") is not None


@pytest.fixture
def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def running(server: TlsServer) -> Iterator[TlsServer]:
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


async def send_one(database: Database, transport: SmtpTransport) -> MailStatus:
    async with database.transaction() as session:
        await outbox.enqueue(
            session,
            key="tls:1",
            email=outbox.Email(to="anna@example.org", subject="s", text="t", html="<p>h</p>", language="en"),
        )
    await send_due(database, transport, mail_from=TEST_MAIL_FROM)
    async with database.transaction() as session:
        return (await session.scalars(sa.select(MailMessage.status))).one()


def target(port: int, *, implicit: bool, require_starttls: bool) -> SmtpTarget:
    return SmtpTarget(
        host="127.0.0.1",
        port=port,
        implicit_tls=implicit,
        require_starttls=require_starttls,
        username="goodloop",
        password="s3cret",
    )


class TestTls:
    async def test_smtp_upgrades_with_starttls_before_logging_in(
        self, database: Database, server_context: ssl.SSLContext, client_context: ssl.SSLContext
    ) -> None:
        for server in running(TlsServer(server_context, implicit=False, offer_starttls=True)):
            transport = SmtpTransport(
                target(server.port, implicit=False, require_starttls=True), tls_context=client_context
            )

            status = await send_one(database, transport)

            assert status is MailStatus.SENT
            assert server.logins == [("s3cret", True)]
            assert [encrypted for _, encrypted in server.arrived] == [True]

    async def test_smtps_is_tls_from_the_first_byte(
        self, database: Database, server_context: ssl.SSLContext, client_context: ssl.SSLContext
    ) -> None:
        for server in running(TlsServer(server_context, implicit=True, offer_starttls=False)):
            transport = SmtpTransport(
                target(server.port, implicit=True, require_starttls=False), tls_context=client_context
            )

            status = await send_one(database, transport)

            assert status is MailStatus.SENT
            assert [encrypted for _, encrypted in server.arrived] == [True]

    async def test_without_starttls_on_offer_production_sends_nothing_and_waits(
        self, database: Database, client_context: ssl.SSLContext
    ) -> None:
        for server in running(TlsServer(None, implicit=False, offer_starttls=False)):
            transport = SmtpTransport(
                target(server.port, implicit=False, require_starttls=True), tls_context=client_context
            )

            status = await send_one(database, transport)

            assert status is MailStatus.QUEUED  # retried later, once the server is fixed
            assert server.logins == []
            assert server.arrived == []
