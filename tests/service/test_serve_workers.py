"""`goodloop serve --workers N`: N web processes on PostgreSQL, refused on SQLite (one writer)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from service.db import Database
from service.settings import Settings
from tests.live_server import free_port
from tests.webhooks import stripe_events
from tests.webhooks.builders import create_live_campaign, deliver, insert_donation, process_all
from webhooks.models import WebhookEvent

GOODLOOP = shutil.which("goodloop", path=str(Path(sys.executable).parent)) or "goodloop"
SECRET = "whsec_workers_" + "w" * 24


def serve_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("GOODLOOP_", "STRIPE_", "DATABASE_URL"))
    }
    return {
        **clean,
        "DATABASE_URL": db_url,
        "GOODLOOP_SECRET_KEY": "workers-test-" + "k" * 40,
        "GOODLOOP_DATA_DIR": str(tmp_path / "data"),
        "GOODLOOP_LOG_FORMAT": "json",
        "STRIPE_WEBHOOK_SECRET": SECRET,
    }


def web_processes(parent: int) -> list[int]:
    """The supervisor's children that serve (uvicorn spawns them with multiprocessing)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def connections_by_process(port: int, pids: list[int]) -> dict[int, int]:
    """How many established TCP connections to `port` (IPv4 loopback) each process holds."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            inodes.add(f"socket:[{fields[9]}]")
    counts = {}
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        held = 0
        for fd in fds.iterdir():
            try:
                held += os.readlink(fd) in inodes
            except OSError:
                continue
        counts[pid] = held
    return counts


async def next_event(lines: AsyncIterator[str], name: str) -> dict[str, object]:
    """The data of the next `name` event on a text/event-stream."""
    current = ""
    while True:
        line = await asyncio.wait_for(anext(lines), 30)
        if line.startswith("event:"):
            current = line.partition(":")[2].strip()
        elif line.startswith("data:") and current == name:
            data: dict[str, object] = json.loads(line.partition(":")[2])
            return data


def wait_ready(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"goodloop serve --workers did not become ready (exit {process.poll()})")


@pytest.fixture
def two_workers(db_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    assert db_url.startswith("postgresql")
    port = free_port()
    process = subprocess.Popen(
        [GOODLOOP, "serve", "--workers", "2", "--port", str(port)],
        env=serve_env(db_url, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process)
        # Both processes start at their own pace; wait until both are there.
        deadline = time.monotonic() + 60
        while len(web_processes(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=60)


class TestRefused:
    def test_sqlite_refuses_more_than_one_web_process_with_the_reason(self, tmp_path: Path) -> None:
        env = serve_env(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}", tmp_path)

        result = subprocess.run(
            [GOODLOOP, "serve", "--workers", "2"], env=env, capture_output=True, text=True, timeout=120
        )

        assert result.returncode == 2
        assert "PostgreSQL" in result.stderr
        assert not (tmp_path / "one.db").exists(), "refused before touching the database"

    @pytest.mark.parametrize("value", ["0", "two"])
    def test_a_worker_count_that_is_not_a_positive_number_is_refused(
        self, tmp_path: Path, value: str
    ) -> None:
        env = serve_env(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}", tmp_path)

        result = subprocess.run(
            [GOODLOOP, "serve", "--workers", value], env=env, capture_output=True, text=True, timeout=120
        )

        assert result.returncode == 2
        assert "--workers" in result.stderr


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
class TestTwoWebProcesses:
    async def test_two_processes_serve_and_store_every_delivery_once(
        self, two_workers: tuple[str, subprocess.Popen[str]], database: Database
    ) -> None:
        base, process = two_workers
        events = [
            stripe_events.event("checkout.session.completed", stripe_events.example("checkout.session"))
            for _ in range(120)
        ]
        # Every event twice, as Stripe's retries would: spread over both processes.
        deliveries = [*events, *events]

        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            limit = asyncio.Semaphore(16)

            async def send(evt: dict[str, object]) -> int:
                payload = stripe_events.encode(evt)
                async with limit:
                    answer = await client.post(
                        "/webhooks/stripe",
                        content=payload,
                        headers=stripe_events.signed_headers(payload, SECRET),
                    )
                return answer.status_code

            statuses = await asyncio.gather(*(send(evt) for evt in deliveries))

        assert len(web_processes(process.pid)) == 2
        assert set(statuses) == {200}
        async with database.transaction() as session:
            stored = list((await session.scalars(sa.select(WebhookEvent.stripe_event_id))).all())
        assert sorted(stored) == sorted(str(evt["id"]) for evt in events)

    async def test_live_progress_reaches_subscribers_on_both_processes(
        self,
        two_workers: tuple[str, subprocess.Popen[str]],
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
    ) -> None:
        base, process = two_workers
        port = int(base.rsplit(":", 1)[1])
        pids = web_processes(process.pid)
        campaign = await create_live_campaign(client, database)
        async with database.transaction() as session:
            slug = await session.scalar(
                sa.text("SELECT slug FROM campaigns WHERE id = :id"), {"id": campaign.id}
            )
        async with contextlib.AsyncExitStack() as stack:
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
            readers: list[AsyncIterator[str]] = []
            # Open pages until each process holds at least one (the kernel hands connections
            # to whichever process accepts first).
            while len(readers) < 32:
                response = await stack.enter_async_context(http.stream("GET", f"/c/{slug}/live"))
                assert response.status_code == 200
                lines = response.aiter_lines()
                first = await next_event(lines, "progress")
                assert first["raised_minor"] == 0
                readers.append(lines)
                if len(readers) >= 4 and min(connections_by_process(port, pids).values()) >= 1:
                    break
            held = connections_by_process(port, pids)
            payment = await insert_donation(database, campaign, amount_minor=2500)
            evt = stripe_events.event("checkout.session.completed", payment.checkout_session())
            assert (await deliver(client, evt, settings.webhook_secret)).status_code == 200
            # The test's own processor confirms it: only PostgreSQL's NOTIFY reaches the two
            # web processes, each of which fans it out to its own subscribers.
            await process_all(database)
            progress = [await next_event(lines, "progress") for lines in readers]

        assert len(pids) == 2
        assert all(count >= 1 for count in held.values()), held
        assert [p["raised_minor"] for p in progress] == [2500] * len(readers)
