"""Mail sender throughput: N queued messages sent to a local SMTP server (aiosmtpd) by the real
send job (claim, send outside the transaction, record), on SQLite and on PostgreSQL.

    .venv/bin/python bench/mail_sender.py [--messages 1000]

PostgreSQL runs only when TEST_DATABASE_URL is set (a throwaway database beside it, dropped
afterwards). One sender, one SMTP connection per batch of 50 (service.mail.sender.BATCH); the
figure is what one worker sustains, not the SMTP provider's limit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.db import Database
from service.mail import outbox
from service.mail.sender import send_due
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
                    text="t" * 800,
                    html="<p>h</p>" * 200,
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
        for label, url, name in targets:
            databases.migrate(url)
            server.reset()
            try:
                seconds = asyncio.run(run(url, server, args.messages))
            finally:
                if name and server_url:
                    databases.drop_postgres_database(server_url, name)
            arrived = len(server.messages)
            print(f"{label}: {arrived} messages in {seconds:.2f} s = {arrived / seconds:.0f} messages/s")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
