"""Mail sender throughput: N queued messages sent to a local SMTP server (aiosmtpd) by the real
send job (claim, send outside the transaction, record), on SQLite and on PostgreSQL.

    .venv/bin/python bench/mail_sender.py [--messages 1000]

PostgreSQL runs only when TEST_DATABASE_URL is set (a throwaway database beside it, dropped
afterwards). One sender, one SMTP connection per batch of 50 (service.mail.sender.BATCH); the
figure is what one worker sustains, not the SMTP provider's limit.

Each backend's throughput is reported as a ratio against a baseline measured in the same run on
the same machine and server: the same messages sent straight over aiosmtplib, one connection per
batch of 50, with no database at all. The ratio is what the outbox (claim, lease, record, retry
bookkeeping) costs on top of SMTP itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.db import Database
from service.mail import outbox
from service.mail.sender import BATCH, send_due
from service.mail.smtp_url import parse_smtp_url
from service.mail.transports import SmtpTransport
from tests import databases
from tests.mail_server import SmtpServer


async def run(url: str, server: SmtpServer, messages: int) -> float:
    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            for n in range(messages):
                email = outbox.Email(
                    to=f"donor{n}@example.org",
                    subject="Receipt",
                    text=TEXT,
                    html=HTML,
                    language="nl",
                )
                await outbox.enqueue(session, key=f"bench:{n}", email=email)
        transport = SmtpTransport(parse_smtp_url(server.url))
        started = time.perf_counter()
        while await send_due(db, transport, mail_from="Goodloop <receipts@goodloop.test>"):
            pass
        return time.perf_counter() - started
    finally:
        await db.dispose()


TEXT, HTML = "t" * 800, "<p>h</p>" * 200


async def baseline(server: SmtpServer, messages: int) -> float:
    """The same messages over SMTP, 50 per connection, built in memory: no outbox, no database."""
    smtp = parse_smtp_url(server.url)
    started = time.perf_counter()
    for first in range(0, messages, BATCH):
        client = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port, start_tls=False)
        await client.connect()
        for n in range(first, min(first + BATCH, messages)):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = (
                "receipts@goodloop.test",
                f"donor{n}@example.org",
                "Receipt",
            )
            message.set_content(TEXT)
            message.add_alternative(HTML, subtype="html")
            await client.send_message(message)
        await client.quit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    targets: list[tuple[str, str, str | None]] = [
        ("sqlite", f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db", None)
    ]
    server_url = os.environ.get("TEST_DATABASE_URL")
    if server_url:
        pg_url, pg_name = databases.fresh_postgres_database(server_url)
        targets.append(("postgresql", pg_url, pg_name))
    server = SmtpServer()
    server.start()
    try:
        base_seconds = asyncio.run(baseline(server, args.messages))
        base_rate = len(server.messages) / base_seconds
        print(
            f"baseline (aiosmtplib, no database): {len(server.messages)} messages, {base_rate:.0f} messages/s"
        )
        for label, url, name in targets:
            databases.migrate(url)
            server.reset()
            try:
                seconds = asyncio.run(run(url, server, args.messages))
            finally:
                if name and server_url:
                    databases.drop_postgres_database(server_url, name)
            arrived = len(server.messages)
            rate = arrived / seconds
            print(
                f"{label}: {arrived} messages, {rate:.0f} messages/s = {rate / base_rate:.2f}x the baseline"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
