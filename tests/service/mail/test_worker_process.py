"""`goodloop worker` and `goodloop mail test`, run as an operator runs them, send through
GOODLOOP_SMTP_URL."""

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


def operator_env(tmp_path: Path, smtp_server: SmtpServer) -> dict[str, str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("GOODLOOP_", "STRIPE_", "DATABASE_URL"))
    }
    env = {
        **clean,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'worker.db'}",
        "GOODLOOP_DATA_DIR": str(tmp_path / "data"),
        "GOODLOOP_LOG_FORMAT": "json",
        "GOODLOOP_SMTP_URL": smtp_server.url,
        "GOODLOOP_MAIL_FROM": "Stichting Goodloop <ontvangst@goodloop.test>",
    }
    assert run(env, "migrate").returncode == 0
    return env


def test_mail_test_sends_a_sample_at_once_and_says_so(tmp_path: Path, smtp_server: SmtpServer) -> None:
    env = operator_env(tmp_path, smtp_server)

    sent = run(env, "mail", "test", "--to", "ops@goodloop.test", "--language", "nl")
    smtp_server.answers.append("550 5.1.1 No such user")
    refused = run(env, "mail", "test", "--to", "nobody@goodloop.test")
    malformed = run(env, "mail", "test", "--to", "not an address")

    assert sent.returncode == 0, sent.stderr
    assert "sent to ops@goodloop.test through the SMTP server" in sent.stdout
    assert [m["Subject"] for m in smtp_server.messages] == ["Een bericht van Goodloop"]
    assert smtp_server.messages[0]["To"] == "ops@goodloop.test"
    assert (refused.returncode, "refused (550 5.1.1 No such user)" in refused.stderr) == (1, True)
    assert (malformed.returncode, "one plain address" in malformed.stderr) == (2, True)


async def test_the_worker_sends_what_the_outbox_holds(tmp_path: Path, smtp_server: SmtpServer) -> None:
    env = operator_env(tmp_path, smtp_server)
    url = env["DATABASE_URL"]
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
