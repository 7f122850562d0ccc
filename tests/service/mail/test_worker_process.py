"""`goodloop worker`, run as an operator runs it, sends the outbox through GOODLOOP_SMTP_URL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from service.db import Database
from service.mail import outbox
from tests.mail_server import SmtpServer
from tests.service.test_cli import run

GOODLOOP = shutil.which("goodloop", path=str(Path(sys.executable).parent)) or "goodloop"
DEADLINE_S = 60.0


async def test_the_worker_sends_what_the_outbox_holds(tmp_path: Path, smtp_server: SmtpServer) -> None:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("GOODLOOP_", "STRIPE_", "DATABASE_URL"))
    }
    url = f"sqlite+aiosqlite:///{tmp_path / 'worker.db'}"
    env = {
        **clean,
        "DATABASE_URL": url,
        "GOODLOOP_DATA_DIR": str(tmp_path / "data"),
        "GOODLOOP_LOG_FORMAT": "json",
        "GOODLOOP_SMTP_URL": smtp_server.url,
        "GOODLOOP_MAIL_FROM": "Stichting Goodloop <ontvangst@goodloop.test>",
    }
    assert run(env, "migrate").returncode == 0
    database = Database.from_url(url)
    async with database.transaction() as session:
        await outbox.enqueue(
            session,
            key="receipt:worker",
            email=outbox.Email(
                to="anna@example.org", subject="Ontvangstbewijs", text="t", html="<p>h</p>", language="nl"
            ),
        )
    await database.dispose()

    worker = subprocess.Popen(
        [GOODLOOP, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + DEADLINE_S
        while not smtp_server.messages and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)

    assert [m["Subject"] for m in smtp_server.messages] == ["Ontvangstbewijs"], output
    assert smtp_server.messages[0]["From"] == "Stichting Goodloop <ontvangst@goodloop.test>"
    assert '"mail sent"' in output
