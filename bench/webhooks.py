"""Webhook benchmark: intake against a same-run baseline, and end-to-end processing on PostgreSQL.

    TEST_DATABASE_URL=postgresql+asyncpg://goodloop:goodloop@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/webhooks.py [--workers 2] [--skip-intake]

Every database is a scratch one beside the given server, with PostgreSQL's default
`synchronous_commit = on` (as in production: a commit waits for its WAL flush).

Intake: N signed deliveries (distinct events) at 64 concurrent connections to Goodloop's
POST /webhooks/stripe (group commit, webhooks/intake_writer.py) and to
bench/webhook_baseline.py (HMAC check + one asyncpg INSERT per request, nothing else), each in
its own uvicorn process, alternated round by round; reported as the ratio of the medians of
requests/s (target >= 1.2x) and of p99 (target <= 1.0x). The load generator is wrk (C, its
own process), fed pre-signed deliveries by bench/webhook_deliveries.lua, so the harness is
never the bottleneck.
End to end: donations are seeded, their events (session completed, intent succeeded, charge
succeeded) are delivered the same way at full speed while `goodloop worker` processes run;
events/s from first receipt to last processed, and the lag (processed_at - received_at) p99,
from the inbox. Then the same as a backlog: the inbox is filled first and the workers drain
it alone. With --workers N (N > 1) both are measured with one worker process and with N, each
on a fresh database, and reported as ratios (target >= 1.5x for 2); every run checks that the
claiming stayed exactly-once (every event processed, each with exactly one committed attempt,
every donation confirmed once in the ledger).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import parse_wrk  # noqa: E402
from campaigns.campaign.models import Campaign, CampaignStatus  # noqa: E402
from campaigns.donations.checks import check_books  # noqa: E402
from campaigns.donations.models import Donation  # noqa: E402
from campaigns.nonprofits.models import Nonprofit, NonprofitStatus  # noqa: E402
from migrations.runner import migrate_to_head  # noqa: E402
from service.db import Database  # noqa: E402
from service.ledger import LedgerTransfer  # noqa: E402
from tests.databases import drop_postgres_database, fresh_postgres_database  # noqa: E402
from tests.live_server import free_port  # noqa: E402
from tests.webhooks import stripe_events  # noqa: E402
from tests.webhooks.scenarios import card  # noqa: E402
from webhooks.models import WebhookEvent  # noqa: E402

SECRET = "whsec_bench_" + "s" * 32
BIN = Path(sys.executable).parent
CONNECTIONS = 64
WRK_THREADS = 2


def env_for(database_url: str, data_dir: Path) -> dict[str, str]:
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
        "BASELINE_WEBHOOK_SECRET": SECRET,
        "BASELINE_DSN": make_url(database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False),
    }


def log_file(name: str) -> Any:
    """Where a server's or worker's lines go: nowhere, unless BENCH_LOG_DIR names a directory."""
    directory = os.environ.get("BENCH_LOG_DIR")
    if not directory:
        return subprocess.DEVNULL
    return Path(directory, f"{Path(name).name}-{uuid.uuid4().hex[:6]}.log").open("ab")


def start(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log_file(args[1]), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{args} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    # A worker finishes the batch it is in first: on a loaded machine that can take a while.
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)


def signed(evt: dict[str, object]) -> tuple[bytes, str]:
    payload = stripe_events.encode(evt)
    return payload, stripe_events.sign(payload, SECRET)


@dataclass(frozen=True)
class Round:
    requests_per_s: float
    p99_ms: float


@dataclass(frozen=True)
class Target:
    """An endpoint, and the table where it stores each delivery with its received_at."""

    url: str
    dsn: str
    table: str


def stored_since(target: Target, since: datetime) -> tuple[int, float]:
    """(rows stored since `since`, seconds from the first to the last of them)."""

    async def query() -> tuple[int, float]:
        connection = await asyncpg.connect(target.dsn)
        try:
            row = await connection.fetchrow(
                f"SELECT count(*), extract(epoch FROM max(received_at) - min(received_at)) "
                f"FROM {target.table} WHERE received_at >= $1",
                since,
            )
        finally:
            await connection.close()
        assert row is not None
        return int(row[0]), float(row[1] or 0.0)

    return asyncio.run(query())


def fire(target: Target, deliveries: list[tuple[bytes, str]]) -> Round:
    """Send every delivery once over CONNECTIONS connections with wrk.

    Throughput comes from the server side (deliveries stored / first-to-last received_at),
    the same way for both endpoints; wrk gives the latency distribution (its own requests/s
    divides by the -d cap, not by the time the deliveries took).
    """
    if shutil.which("wrk") is None:
        raise SystemExit("the benchmarks use wrk: apt-get install wrk")
    started = datetime.now(UTC)
    with tempfile.NamedTemporaryFile("wb", suffix=".deliveries") as file:
        for body, signature in deliveries:
            file.write(signature.encode() + b"\n" + body + b"\n")
        file.flush()
        script = ["-s", str(ROOT / "bench" / "webhook_deliveries.lua"), target.url, "--", file.name]
        # A generous per-request timeout: on a loaded machine a slow answer is a figure, not a loss.
        wrk_args = ["wrk", f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", "-d600s", "--timeout", "30s", "--latency"]
        process = subprocess.Popen(
            [*wrk_args, *script, str(WRK_THREADS)],
            stdout=subprocess.PIPE,
            text=True,
        )
        # wrk ends by itself when every thread has its share answered; if it is still
        # waiting on duplicates in flight, it is interrupted once every delivery is stored.
        while (stored := stored_since(target, started))[0] < len(deliveries) and process.poll() is None:
            time.sleep(0.25)  # polling is a query on the server under test: keep it rare
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        out = process.communicate(timeout=60)[0]
        stored = stored_since(target, started)
    if stored[0] < len(deliveries):
        raise SystemExit(f"{target.url}: only {stored[0]} of {len(deliveries)} deliveries stored\n{out}")
    load = parse_wrk(out)
    if load.errors:
        raise SystemExit(f"{target.url}: {load.errors} deliveries were not answered 2xx\n{out}")
    count, span = stored
    return Round(count / span, load.p99_ms)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def unhandled_event_batch(count: int) -> list[tuple[bytes, str]]:
    """Stored-but-inert events for the intake test (a handled type, objects that match no donation)."""
    return [
        signed(stripe_events.event("charge.succeeded", stripe_events.example("charge"))) for _ in range(count)
    ]


def measure_intake(env: dict[str, str], requests: int, rounds: int) -> dict[str, list[Round]]:
    goodloop_port, baseline_port = free_port(), free_port()
    goodloop = start(
        [str(BIN / "goodloop"), "serve", "--no-worker", "--port", str(goodloop_port)], env, goodloop_port
    )
    baseline = start(
        [
            str(BIN / "uvicorn"),
            "bench.webhook_baseline:app",
            "--port",
            str(baseline_port),
            "--log-level",
            "warning",
        ],
        env,
        baseline_port,
    )
    dsn = env["BASELINE_DSN"]
    targets = {
        "baseline": Target(f"http://127.0.0.1:{baseline_port}/hook", dsn, "bench_inbox"),
        "goodloop": Target(f"http://127.0.0.1:{goodloop_port}/webhooks/stripe", dsn, "webhook_events"),
    }
    results: dict[str, list[Round]] = {"baseline": [], "goodloop": []}
    try:
        for target in targets.values():
            fire(target, unhandled_event_batch(1000))  # warm-up
        for _ in range(rounds):
            for name, target in targets.items():
                results[name].append(fire(target, unhandled_event_batch(requests)))
    finally:
        stop(goodloop)
        stop(baseline)
    return results


async def seed_donations(
    database_url: str, count: int, *, slug_prefix: str = "bench", named: bool = False
) -> tuple[str, list[stripe_events.Payment]]:
    """A verified nonprofit, one live campaign and `count` pending donations with their Checkout
    Sessions; returns the campaign's slug and what Stripe would report for each payment.
    `named` gives each donor a display name (live progress shows it)."""
    database = Database.from_url(database_url)
    try:
        async with database.transaction() as session:
            nonprofit = Nonprofit(
                id=uuid.uuid4(),
                name="Bench",
                contact_email="b@bench.org",
                country="IE",
                registration_number="1",
                website="https://bench.org",
                status=NonprofitStatus.VERIFIED,
            )
            session.add(nonprofit)
            await session.flush()
            campaign = Campaign(
                id=uuid.uuid4(),
                nonprofit_id=nonprofit.id,
                slug=f"{slug_prefix}-{uuid.uuid4().hex[:8]}",
                title="Bench",
                story_markdown="x",
                story_html="<p>x</p>",
                currency="eur",
                goal_minor=10**9,
                min_amount_minor=100,
                status=CampaignStatus.LIVE,
            )
            session.add(campaign)
            await session.flush()
            payments = []
            for i in range(count):
                session_id = stripe_events.new_id("cs_test")
                donation = Donation(
                    id=uuid.uuid4(),
                    campaign_id=campaign.id,
                    nonprofit_id=nonprofit.id,
                    amount_minor=1000 + i,
                    currency="eur",
                    donor_name=f"Donor {i}" if named else None,
                    donor_email=f"d{i}@bench.org",
                    stripe_checkout_session_id=session_id,
                )
                session.add(donation)
                payments.append(
                    stripe_events.Payment(
                        donation_id=donation.id, session_id=session_id, amount_minor=1000 + i, currency="eur"
                    )
                )
        return campaign.slug, payments
    finally:
        await database.dispose()


@dataclass(frozen=True)
class Pipeline:
    events: int
    events_per_s: float
    lag_p99_s: float
    rows_per_donation: float = 0.0
    """Rows inserted, updated or deleted per donation, from intake to processed (pg_stat)."""
    retried: int = 0
    """Events processed on a later attempt (not_yet_known: they arrived before their cause)."""
    cpu: str = ""
    """Where the CPU went while the events were processed (CpuShares.text)."""


def _proc_cpu_s(pid: int) -> float:
    """utime + stime of one process so far, in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_cpu_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, every core (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


class CpuShares:
    """CPU used by the web process, each worker and this database's PostgreSQL backends, against
    the whole machine, between start() and stop(): shows who had the cores while it ran."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.pids: dict[str, int] = {}
        self._start: dict[str, float] = {}
        self._machine = (0.0, 0.0)
        self._sampler: threading.Thread | None = None
        self._stop = threading.Event()
        self._seen: dict[int, float] = {}
        self.text = ""

    def start(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._start = {name: _proc_cpu_s(pid) for name, pid in pids.items()}
        self._machine = _machine_cpu_s()
        self._seen = {}
        self._sampler = threading.Thread(target=self._sample_postgres, daemon=True)
        self._sampler.start()

    def _backends(self) -> dict[int, float]:
        """CPU seconds so far of each PostgreSQL backend connected to this database."""
        found = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    command = (entry / "cmdline").read_bytes().decode(errors="replace")
                except OSError:
                    continue
                if command.startswith("postgres:") and f" {self.database} " in command:
                    found[int(entry.name)] = _proc_cpu_s(int(entry.name))
        return found

    def _sample_postgres(self) -> None:
        # Backends come and go with the pools: each one's CPU is kept at its highest reading,
        # less what it had used before start().
        base = self._backends()
        while True:
            for pid, seconds in self._backends().items():
                used = seconds - base.get(pid, 0.0)
                self._seen[pid] = max(self._seen.get(pid, 0.0), used)
            if self._stop.wait(0.5):
                return

    def stop(self) -> None:
        busy0, total0 = self._machine
        used = {name: _proc_cpu_s(pid) - self._start[name] for name, pid in self.pids.items()}
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join()
        used["postgres"] = sum(self._seen.values())
        busy1, total1 = _machine_cpu_s()
        busy, total = busy1 - busy0, total1 - total0
        parts = ", ".join(f"{name} {seconds:.1f}" for name, seconds in used.items())
        others = busy - sum(used.values())
        self.text = (
            f"CPU s over {total:.0f} core-s: {parts}, everything else {others:.1f}, idle {total - busy:.1f}"
        )


def rows_written(database_url: str) -> int:
    """Rows inserted, updated and deleted in this database so far (PostgreSQL's statistics; a
    backend reports its counts at the latest when it disconnects, so read after the servers
    and workers stopped)."""

    async def query() -> int:
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            total = await connection.fetchval(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables"
            )
        finally:
            await connection.close()
        return int(total)

    return asyncio.run(query())


async def inbox_figures(database_url: str, *, from_first: str = "received_at") -> Pipeline:
    """Processed events per second, from the first event's `from_first` to the last processed."""
    database = Database.from_url(database_url)
    try:
        async with database.transaction() as session:
            rows = (
                await session.execute(
                    sa.select(WebhookEvent.received_at, WebhookEvent.processed_at, WebhookEvent.attempts)
                )
            ).all()
    finally:
        await database.dispose()
    done = [(r, p) for r, p, _ in rows if p is not None]
    attempts = [a for _, p, a in rows if p is not None]
    if not done:
        return Pipeline(0, 0.0, 0.0)
    first = min(r for r, _ in done) if from_first == "received_at" else min(p for _, p in done)
    span = (max(p for _, p in done) - first).total_seconds()
    lags = [(p - r).total_seconds() for r, p in done]
    retried = sum(1 for a in attempts if a > 1)
    return Pipeline(
        len(done), len(done) / span if span else 0.0, p99(lags) if len(lags) > 1 else 0.0, retried=retried
    )


def start_workers(env: dict[str, str], count: int) -> list[subprocess.Popen[bytes]]:
    """`count` `goodloop worker` processes, started together and returned once each logged
    "worker started" (they have no port to probe). Importing the app takes seconds, tens of
    them on a loaded machine: a worker still importing while the deliveries arrive would put
    its start-up into the live figure, and workers started one after the other would let the
    first drain a backlog alone while the next imports."""
    processes = [
        subprocess.Popen(
            [str(BIN / "goodloop"), "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(count)
    ]
    ready = [threading.Event() for _ in processes]
    for process, started in zip(processes, ready, strict=True):
        threading.Thread(target=_relay, args=(process, started), daemon=True).start()
    for process, started in zip(processes, ready, strict=True):
        if not started.wait(300) or process.poll() is not None:
            for other in processes:
                other.kill()
            raise SystemExit("goodloop worker did not start")
    return processes


def _relay(process: subprocess.Popen[bytes], started: threading.Event) -> None:
    """Reads a worker's lines (to BENCH_LOG_DIR if set) and says when it started."""
    assert process.stdout is not None
    sink = log_file("worker")
    for line in process.stdout:
        if b'"worker started"' in line:
            started.set()
        if sink is not subprocess.DEVNULL:
            sink.write(line)
    started.set()  # it ended: the caller sees it in poll()


def wait_processed(database_url: str, count: int) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and asyncio.run(inbox_figures(database_url)).events < count:
        time.sleep(0.2)


def measure_pipeline(
    env: dict[str, str], database_url: str, donations: int, *, live: bool, workers: int = 1
) -> Pipeline:
    """`workers` worker processes turning donations' events (3 each) into donations and ledger
    transfers; then checks the claiming was exactly-once.

    live: events are delivered at full speed while the worker runs; events/s from the first
    receipt to the last processed, bounded by whichever of intake and worker is slower.
    Not live, a backlog (Stripe retrying after an outage): the inbox is filled first, then
    the worker drains it with the machine to itself; events/s from first to last processed.
    """
    _, payments = asyncio.run(seed_donations(database_url, donations))
    time.sleep(1)  # the seeding connection's statistics reach the server
    before = rows_written(database_url)
    # In waves, each donation's events in Stripe's usual order (all sessions completed, then
    # all intents, then all charges): wrk's connections would otherwise reorder a donation's
    # three events at random, and an intent that arrives before its session is retried with
    # backoff (seconds), which then measures the backoff, not the workers.
    per_payment = [card(payment) for payment in payments]
    waves = [[signed(events[i]) for events in per_payment] for i in range(len(per_payment[0]))]
    deliveries = [delivery for wave in waves for delivery in wave]
    port = free_port()
    server = start([str(BIN / "goodloop"), "serve", "--no-worker", "--port", str(port)], env, port)
    running = start_workers(env, workers) if live else []
    cpu = CpuShares(make_url(database_url).database or "")
    try:
        if live:
            cpu.start({"web": server.pid, **{f"worker{i + 1}": w.pid for i, w in enumerate(running)}})
        target = Target(f"http://127.0.0.1:{port}/webhooks/stripe", env["BASELINE_DSN"], "webhook_events")
        for wave in waves:
            fire(target, wave)
        if not running:
            stop(server)
            running = start_workers(env, workers)
            cpu.start({f"worker{i + 1}": w.pid for i, w in enumerate(running)})
        wait_processed(database_url, len(deliveries))
        cpu.stop()
    finally:
        for worker in running:
            stop(worker)
        if server.poll() is None:
            stop(server)
    asyncio.run(check_exactly_once(database_url, events=len(deliveries), donations=len(payments)))
    time.sleep(1)
    rows = (rows_written(database_url) - before) / len(payments)
    figures = asyncio.run(inbox_figures(database_url, from_first="received_at" if live else "processed_at"))
    return dataclasses.replace(figures, rows_per_donation=rows, cpu=cpu.text)


async def check_exactly_once(database_url: str, *, events: int, donations: int) -> None:
    """Every event stored once and processed, every donation confirmed, and each gift booked
    exactly once: one `donation:{id}:received` ledger transfer per donation, and the books
    agree (`check_books`: totals, ledger and donations reconcile). An event that arrived
    before the one it depends on is retried (attempts > 1) and that is fine: what must not
    happen is a second effect."""
    database = Database.from_url(database_url)
    try:
        async with database.transaction() as session:
            rows = (await session.execute(sa.select(WebhookEvent.processed_at))).all()
            confirmed = await session.scalar(
                sa.select(sa.func.count()).select_from(Donation).where(Donation.confirmed_at.is_not(None))
            )
            booked = await session.scalar(
                sa.select(sa.func.count())
                .select_from(LedgerTransfer)
                .where(LedgerTransfer.idempotency_key.like("donation:%:received"))
            )
            problems = await check_books(session)
    finally:
        await database.dispose()
    processed = sum(1 for (at,) in rows if at is not None)
    if (len(rows), processed, confirmed, booked, problems) != (events, events, donations, donations, []):
        raise SystemExit(
            f"not exactly once: {len(rows)} events stored, {processed} processed, {confirmed} of "
            f"{donations} donations confirmed, {booked} booked; {problems[:5]}"
        )


def synchronous_commit_on(server_url: str, name: str) -> None:
    """Scratch databases are made for tests with synchronous_commit off; benchmarks measure
    what production runs: PostgreSQL's default, a commit waits for its WAL flush."""

    async def run() -> None:
        dsn = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = on')
        finally:
            await connection.close()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="a PostgreSQL server (default TEST_DATABASE_URL); scratch databases are made beside it",
    )
    parser.add_argument("--requests", type=int, default=3000, help="intake deliveries per round and endpoint")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--donations", type=int, default=2000, help="end to end: 3 events each")
    parser.add_argument(
        "--workers", type=int, default=1, help="end to end: also with this many worker processes"
    )
    parser.add_argument("--skip-intake", action="store_true", help="only the end-to-end figures")
    parser.add_argument("--intake-only", action="store_true", help="only the intake against its baseline")
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        raise SystemExit("bench/webhooks.py needs PostgreSQL: --database-url or TEST_DATABASE_URL")
    counts = sorted({1, args.workers})
    names = [] if args.skip_intake else ["intake"]
    if not args.intake_only:
        names += [f"{mode}-{n}" for n in counts for mode in ("live", "burst")]
    urls = {name: fresh_postgres_database(args.database_url) for name in names}
    data_dir = ROOT / ".goodloop-bench"
    pipelines: dict[str, Pipeline] = {}
    try:
        for url, name in urls.values():
            synchronous_commit_on(args.database_url, name)
            migrate_to_head(url)
        if not args.skip_intake:
            intake = measure_intake(env_for(urls["intake"][0], data_dir), args.requests, args.rounds)
            report_intake(intake, args)
        for key in names[0 if args.skip_intake else 1 :]:
            mode, workers = key.split("-")
            url = urls[key][0]
            pipelines[key] = measure_pipeline(
                env_for(url, data_dir), url, args.donations, live=mode == "live", workers=int(workers)
            )
    finally:
        for _, name in urls.values():
            drop_postgres_database(args.database_url, name)
    if pipelines:
        report_pipelines(pipelines, counts)


def report_intake(intake: dict[str, list[Round]], args: argparse.Namespace) -> None:
    base_rps = statistics.median(r.requests_per_s for r in intake["baseline"])
    good_rps = statistics.median(r.requests_per_s for r in intake["goodloop"])
    base_p99 = statistics.median(r.p99_ms for r in intake["baseline"])
    good_p99 = statistics.median(r.p99_ms for r in intake["goodloop"])
    print(f"intake, {CONNECTIONS} connections, {args.rounds} rounds x {args.requests} each (median round):")
    for name, rounds in intake.items():
        each = ", ".join(f"{r.requests_per_s:.0f}/s p99 {r.p99_ms:.1f} ms" for r in rounds)
        print(f"  rounds {name:8} {each}")
    print(f"  baseline (HMAC + asyncpg INSERT)  {base_rps:8.0f} req/s   p99 {base_p99:6.1f} ms")
    print(f"  goodloop POST /webhooks/stripe    {good_rps:8.0f} req/s   p99 {good_p99:6.1f} ms")
    print(f"  throughput ratio goodloop / baseline {good_rps / base_rps:6.2f}x   (target >= 1.2)")
    print(f"  p99 ratio        goodloop / baseline {good_p99 / base_p99:6.2f}x   (target <= 1.0)")


def report_pipelines(pipelines: dict[str, Pipeline], counts: list[int]) -> None:
    for n in counts:
        live, burst = pipelines[f"live-{n}"], pipelines[f"burst-{n}"]
        print(
            f"end to end, {n} worker process(es), PostgreSQL, {live.events} events (3 per donation), "
            "claimed exactly once:"
        )
        print(
            f"  live:  {live.events_per_s:8.0f} events/s from first receipt to last processed, "
            f"lag p99 {live.lag_p99_s * 1000:.0f} ms"
        )
        print(f"         {live.retried} events retried (not_yet_known); {live.cpu}")
        print(f"  burst: {burst.events_per_s:8.0f} events/s draining a full inbox")
        print(f"         {burst.retried} events retried; {burst.cpu}")
        print(f"  rows written per donation (3 events in, processed): {burst.rows_per_donation:.1f}")
    if len(counts) > 1:
        n = counts[-1]
        for mode in ("live", "burst"):
            ratio = pipelines[f"{mode}-{n}"].events_per_s / pipelines[f"{mode}-1"].events_per_s
            print(f"  {mode:5} ratio {n} workers / 1 worker: {ratio:.2f}x   (target >= 1.5 for 2)")


if __name__ == "__main__":
    main()
