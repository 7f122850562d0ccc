"""Live progress benchmark: thousands of open pages on one web process, PostgreSQL.

    TEST_DATABASE_URL=postgresql+asyncpg://goodloop:goodloop@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/live.py [--subscribers 2000] [--rounds 5]

One `goodloop serve --no-worker` process on a scratch database; this process opens
`--subscribers` concurrent GET /c/{slug}/live streams to it (plain asyncio sockets, HTTP/1.0,
so the harness stays cheap) and one plain asyncpg LISTEN on the same channel: the baseline,
what PostgreSQL itself takes to deliver a notification, measured in the same run. Each round
one pending donation is paid the way production pays it: a signed checkout.session.completed
goes through the server's webhook intake, and the webhook processor (run here, so the moment
its transaction committed is known on this clock) confirms it. Reported per round and over
all rounds: how many streams received the gift's `supporter` event, and p50/p99 of the delay
from the commit to receipt for the streams and for the baseline, with their ratio. Memory:
the server's RSS with one stream open and with all of them, divided by the streams added.
Every delay is measured on this process's monotonic clock; the server, PostgreSQL and this
harness share the machine, so the ratio is the figure to compare across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]  # no stubs published
import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhooks import seed_donations  # noqa: E402
from campaigns import wiring  # noqa: E402
from migrations.runner import migrate_to_head  # noqa: E402
from service.db import Database  # noqa: E402
from service.live import CHANNEL  # noqa: E402
from tests.databases import drop_postgres_database, fresh_postgres_database  # noqa: E402
from tests.live_server import free_port  # noqa: E402
from tests.webhooks import stripe_events  # noqa: E402
from webhooks.processor import process_due_events  # noqa: E402

SECRET = "whsec_bench_" + "l" * 32
BIN = Path(sys.executable).parent
CONNECT_AT_ONCE = 64
WAIT_S = 30.0


def server_env(database_url: str, data_dir: Path, subscribers: int) -> dict[str, str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("GOODLOOP_", "STRIPE_", "DATABASE_URL"))
    }
    return {
        **clean,
        "DATABASE_URL": database_url,
        "GOODLOOP_SECRET_KEY": "bench-" + "k" * 40,
        "GOODLOOP_DATA_DIR": str(data_dir),
        "GOODLOOP_LOG_FORMAT": "json",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "GOODLOOP_LIVE_MAX_SUBSCRIBERS": str(subscribers + 10),
    }


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    logs = os.environ.get("BENCH_LOG_DIR")
    args = [str(BIN / "goodloop"), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
    if logs:
        with Path(logs, f"live-serve-{port}.log").open("ab") as out:
            process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    else:
        process = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("goodloop serve did not start")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit("no VmRSS for the server")


@dataclass
class Arrivals:
    """When each gift's supporter event reached each stream (this process's monotonic clock)."""

    by_gift: dict[str, list[float]] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def note(self, gift: str, at: float) -> None:
        self.by_gift.setdefault(gift, []).append(at)
        self.changed.set()


async def subscribe(
    port: int, path: str, arrivals: Arrivals, opened: asyncio.Semaphore
) -> asyncio.StreamWriter:
    """One open page: connects, waits for the first progress event, then notes supporters."""
    async with opened:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise SystemExit(f"a live stream was refused: {status!r}")
        while (await reader.readline()) not in (b"event: progress\n", b""):
            pass
    asyncio.get_running_loop().create_task(_read(reader, arrivals))
    return writer


async def _read(reader: asyncio.StreamReader, arrivals: Arrivals) -> None:
    supporter = False
    while line := await reader.readline():
        if line == b"event: supporter\n":
            supporter = True
        elif supporter and line.startswith(b"data: "):
            arrivals.note(json.loads(line[6:])["id"], time.monotonic())
            supporter = False


async def listen_baseline(dsn: str, arrivals: Arrivals) -> asyncpg.Connection:
    connection = await asyncpg.connect(dsn)

    def notified(_connection: object, _pid: int, _channel: str, payload: str) -> None:
        for name, data in json.loads(payload).get("q", []):
            if name == "supporter":
                arrivals.baseline[data["id"]] = time.monotonic()

    await connection.add_listener(CHANNEL, notified)
    return connection


@dataclass(frozen=True)
class Round:
    received: int
    stream_delays_s: list[float]
    baseline_delay_s: float


async def pay(
    http: httpx.AsyncClient,
    database: Database,
    payment: stripe_events.Payment,
    arrivals: Arrivals,
    expected: int,
) -> Round:
    evt = stripe_events.event("checkout.session.completed", payment.checkout_session())
    payload = stripe_events.encode(evt)
    headers = stripe_events.signed_headers(payload, SECRET)
    delivered = await http.post("/webhooks/stripe", content=payload, headers=headers)
    assert delivered.status_code == 200, delivered.text
    processed = 0
    while processed == 0:
        processed = await process_due_events(database)
    returned = time.monotonic()
    gift = str(payment.donation_id)
    deadline = returned + WAIT_S
    while len(arrivals.by_gift.get(gift, [])) < expected and time.monotonic() < deadline:
        arrivals.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrivals.changed.wait(), 1.0)
    got = arrivals.by_gift.get(gift, [])
    # The commit happened before the processor returned and before a plain LISTEN heard of it:
    # whichever this process saw first is the closest reading of the commit it has.
    committed = min(returned, arrivals.baseline.get(gift, returned))
    return Round(
        received=len(got),
        stream_delays_s=[at - committed for at in got],
        baseline_delay_s=arrivals.baseline.get(gift, float("nan")) - committed,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(database_url: str, subscribers: int, rounds: int, port: int, server_pid: int) -> None:
    wiring.wire()
    slug, payments = await seed_donations(database_url, 2 * rounds, slug_prefix="live", named=True)
    arrivals = Arrivals()
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    baseline = await listen_baseline(dsn, arrivals)
    database = Database.from_url(database_url)
    opened = asyncio.Semaphore(CONNECT_AT_ONCE)
    path = f"/c/{slug}/live"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=WAIT_S) as http:
        # Baseline, same run: the same path for a gift with one page open.
        writers = [await subscribe(port, path, arrivals, opened)]
        alone = [await pay(http, database, payment, arrivals, 1) for payment in payments[:rounds]]
        one_open_kib = rss_kib(server_pid)
        started = time.monotonic()
        more = (subscribe(port, path, arrivals, opened) for _ in range(subscribers - 1))
        writers += await asyncio.gather(*more)
        connect_s = time.monotonic() - started
        await asyncio.sleep(1)
        all_open_kib = rss_kib(server_pid)
        crowd = [await pay(http, database, payment, arrivals, subscribers) for payment in payments[rounds:]]
    for writer in writers:
        writer.close()
    await baseline.close()
    await database.dispose()
    report(alone, crowd, subscribers, connect_s, one_open_kib, all_open_kib)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def report(
    alone: list[Round], crowd: list[Round], subscribers: int, connect_s: float, one_kib: int, all_kib: int
) -> None:
    print(f"live progress: one `goodloop serve` process, PostgreSQL, {len(crowd)} gifts per phase")
    for label, rounds in (("1 stream (baseline)", alone), (f"{subscribers} streams", crowd)):
        for i, r in enumerate(rounds, 1):
            p50, p99 = percentile(r.stream_delays_s, 0.5), percentile(r.stream_delays_s, 0.99)
            print(f"  {label}, gift {i}: {r.received} received, p50 {ms(p50)}, p99 {ms(p99)}")
    one = [d for r in alone for d in r.stream_delays_s]
    many = [d for r in crowd for d in r.stream_delays_s]
    listen = [r.baseline_delay_s for r in alone + crowd]
    received = sum(r.received for r in crowd)
    expected = subscribers * len(crowd)
    o50, o99 = percentile(one, 0.5), percentile(one, 0.99)
    m50, m99 = percentile(many, 0.5), percentile(many, 0.99)
    print(f"  opened {subscribers} streams in {connect_s:.1f} s")
    print(f"  received: {received}/{expected} ({received / expected:.1%})")
    print(f"  commit -> page, 1 stream: p50 {ms(o50)}, p99 {ms(o99)}")
    print(f"  commit -> page, {subscribers} streams: p50 {ms(m50)}, p99 {ms(m99)}, max {ms(max(many))}")
    print(f"  ratio {subscribers} streams / 1 stream: p50 {m50 / o50:.1f}x, p99 {m99 / o99:.1f}x")
    print(f"  commit -> plain LISTEN in this process: p50 {ms(statistics.median(listen))}")
    print(f"  within 2 s of the commit: {sum(d <= 2 for d in many) / len(many):.1%} of deliveries")
    per = (all_kib - one_kib) / max(subscribers - 1, 1)
    print(
        f"  server RSS: {one_kib / 1024:.0f} MiB with 1 stream, {all_kib / 1024:.0f} MiB with {subscribers}"
    )
    print(f"  memory per stream: {per:.1f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5, help="gifts confirmed one after another")
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        raise SystemExit("bench/live.py needs PostgreSQL: --database-url or TEST_DATABASE_URL")
    url, name = fresh_postgres_database(args.database_url)
    port = free_port()
    server: subprocess.Popen[bytes] | None = None
    try:
        migrate_to_head(url)
        server = start_server(server_env(url, ROOT / ".goodloop-bench", args.subscribers), port)
        asyncio.run(run(url, args.subscribers, args.rounds, port, server.pid))
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        drop_postgres_database(args.database_url, name)


if __name__ == "__main__":
    main()
