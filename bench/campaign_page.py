"""Campaign page throughput and p99 against a hello-world Starlette endpoint, same run, same machine.

    .venv/bin/python bench/campaign_page.py [--database-url URL] [--seconds 10] [--rounds 3]

Without --database-url it creates a throwaway database beside TEST_DATABASE_URL (PostgreSQL,
as the issue asks), or falls back to SQLite and says so. The campaign is realistic: a long
story and 1,000 confirmed donations. Both servers run as `uvicorn` in their own process, with
the same options (`service.cli.SERVER_OPTIONS`: httptools, asyncio loop); wrk loads each in
turn, round after round, interleaved. Each round gives a pair of figures measured a few
seconds apart (throughput ratio, p99 ratio); the report is the median pair, next to every
round's, because the machine is shared and a round's absolute figures swing with its load.
wrk keeps no cookies, so each of its requests is a first visit (a new device id, a Set-Cookie
and `Cache-Control: private`: what most views of a shared link are); each round also measures
returning visitors (wrk sends a device cookie: no new id, `Cache-Control: public`). Both send
the Accept-Encoding Chromium sends, as every browser does, so the page goes gzipped
(service/web/compression.py); a third case sends none (wrk's default, what the runs before
compression measured: the page uncompressed). Every case is compared with the hello-world run
of its round, which is sent the browser's headers too.
Targets (issue #17): throughput >= 0.6x hello-world, p99 <= 2x hello-world's. The page is
served from the page cache by the fast path (service/web/fast_path.py) after its first render.
Each round also serves the page's own first-visit response (headers and gzipped body, captured
from Goodloop) as a constant from a Starlette route (bench/constant_page.py): the floor, what
these bytes reach with no per-view work at all, against the same hello-world round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.load import Load, free_port, python, server, wrk  # noqa: E402
from campaigns.campaign import service as campaigns  # noqa: E402
from campaigns.campaign.models import Campaign  # noqa: E402
from campaigns.campaign.schemas import CampaignIn  # noqa: E402
from campaigns.campaign.status import Action  # noqa: E402
from campaigns.donations.models import Donation, DonationStatus  # noqa: E402
from campaigns.nonprofits import service as nonprofits  # noqa: E402
from campaigns.nonprofits.actors import actor_for_member  # noqa: E402
from campaigns.nonprofits.schemas import SignUpIn  # noqa: E402
from migrations.runner import migrate_to_head  # noqa: E402
from service.app import create_app  # noqa: E402
from service.auth.admins import create_admin  # noqa: E402
from service.auth.models import AdminRole  # noqa: E402
from service.cli import SERVER_OPTIONS, ServerOptions  # noqa: E402
from service.db import Database, utcnow  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.databases import drop_postgres_database, fresh_postgres_database  # noqa: E402

SECRET = "bench-secret-key-" + "k" * 40
# What Chromium sends (and, give or take br and zstd, every browser).
BROWSER = ["Accept-Encoding: gzip, deflate, br, zstd"]
CASES = {
    "campaign": "first visits (gzip)",
    "returning": "returning visitors (gzip)",
    "uncompressed": "first visits without Accept-Encoding (uncompressed)",
}
RETURNING_DEVICE = "YmVuY2gtcmV0dXJuaW5nLXZpc2l0b3ItZGV2aWNl"
STORY = "\n\n".join(
    f"## Chapter {i}\n\nEvery winter our volunteers cook **{i * 40} meals** a night for families across the "
    f"harbour. [Read more](https://example.org/{i}). " + "Your gift keeps the kitchen warm. " * 12
    for i in range(1, 13)
)


async def seed(database_url: str, donations: int) -> str:
    # Assembled, not served: it wires the fact listeners the campaign's approval is announced to,
    # and registers the routes its fact's links are built from (service.mail.links).
    create_app(Settings(database_url=database_url, secret_key=SECRET))
    database = Database.from_url(database_url)
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        async with database.transaction() as session:
            signed = await nonprofits.sign_up(
                session,
                data=SignUpIn(
                    name="Harbor Food Bank",
                    contact_email=f"{slug}@harbor-food-bank.org",
                    password="correct horse battery",
                    country="IE",
                    registration_number="CHY 1",
                    website="https://harbor-food-bank.org",
                ),
            )
            admin = await create_admin(session, email=f"{slug}@goodloop.org", role=AdminRole.SUPERADMIN)
            await nonprofits.verify_nonprofit(
                session, admin=admin.admin, nonprofit_id=signed.nonprofit.id, note=None
            )
            actor = await actor_for_member(session, member_id=signed.owner.id)
            assert actor is not None
            campaign = await campaigns.create_campaign(
                session,
                actor=actor,
                data=CampaignIn(
                    title="Winter meals for 500 families",
                    slug=slug,
                    story=STORY,
                    currency="eur",
                    goal_minor=5_000_000,
                    suggested_amounts_minor=[1000, 2500, 5000, 10000],
                    cover_image_url="https://images.example.org/winter-meals.jpg",
                ),
            )
            await campaigns.transition_campaign(
                session, actor=actor, campaign_id=campaign.id, action=Action.SUBMIT
            )
            await campaigns.approve_campaign(session, admin=admin.admin, campaign_id=campaign.id, note=None)
            rng = random.Random(7)
            for i in range(donations):
                session.add(
                    Donation(
                        campaign_id=campaign.id,
                        nonprofit_id=signed.nonprofit.id,
                        amount_minor=rng.choice([500, 1000, 2500, 5000, 10000]),
                        currency="eur",
                        status=DonationStatus.CONFIRMED,
                        donor_email=f"donor{i}@example.org",
                        donor_name=f"Donor {i}",
                        anonymous=rng.random() < 0.2,
                        message="Keep going!" if rng.random() < 0.3 else None,
                        stripe_checkout_session_id=f"cs_bench_{slug}_{i}",
                        confirmed_at=utcnow(),
                    )
                )
            await session.flush()
            raised = sa.select(sa.func.sum(Donation.amount_minor)).where(Donation.campaign_id == campaign.id)
            await session.execute(
                sa.update(Campaign)
                .where(Campaign.id == campaign.id)
                .values(raised_minor=raised.scalar_subquery(), donor_count=donations)
            )
    finally:
        await database.dispose()
    return slug


def database_url(explicit: str | None, tmp: str) -> tuple[str, str, str | None]:
    """(url, description, name of a throwaway database to drop afterwards)."""
    if explicit:
        return explicit, "given", None
    server_url = os.environ.get("TEST_DATABASE_URL")
    if server_url:
        url, name = fresh_postgres_database(server_url)
        return url, f"throwaway PostgreSQL database {name}", name
    where = "SQLite (set TEST_DATABASE_URL for PostgreSQL, as the issue asks)"
    return f"sqlite+aiosqlite:///{tmp}/bench.db", where, None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--donations", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, where, throwaway = database_url(args.database_url, tmp)
        try:
            results = run_rounds(url, args, tmp)
        finally:
            if throwaway is not None:
                drop_postgres_database(os.environ["TEST_DATABASE_URL"], throwaway)
    report(results, where, args)


def run_rounds(url: str, args: argparse.Namespace, tmp: str) -> dict[str, list[Load]]:
    migrate_to_head(url)
    slug = asyncio.run(seed(url, args.donations))
    app_port, hello_port, constant_port = free_port(), free_port(), free_port()
    env = {"DATABASE_URL": url, "GOODLOOP_SECRET_KEY": SECRET, "GOODLOOP_LOG_FORMAT": "json"}
    goodloop = [python(), "-m", "service.cli", "serve", "--no-worker", "--port", str(app_port)]
    hello = [python(), "-m", "uvicorn", "bench.hello:app", "--port", str(hello_port)]
    hello += [*uvicorn_flags(SERVER_OPTIONS), "--log-level", "warning"]
    load = {"connections": args.connections, "seconds": args.seconds}
    returning = [*BROWSER, f"Cookie: gl_device={RETURNING_DEVICE}"]
    captured = Path(tmp) / "page.json"
    constant = [python(), "-m", "uvicorn", "bench.constant_page:app", "--port", str(constant_port)]
    constant += [*uvicorn_flags(SERVER_OPTIONS), "--log-level", "warning"]
    results: dict[str, list[Load]] = {case: [] for case in ("baseline", "floor", *CASES)}
    for _ in range(args.rounds):
        with server(hello, env={"PYTHONPATH": str(ROOT)}, ready_path="/", port=hello_port) as base:
            results["baseline"].append(wrk(base + "/", headers=BROWSER, **load))
        with server(goodloop, env=env, ready_path="/readyz", port=app_port) as base:
            wrk(f"{base}/c/{slug}", connections=args.connections, seconds=2)  # warm-up
            if not captured.exists():
                capture_page(f"{base}/c/{slug}", captured)
            results["campaign"].append(wrk(f"{base}/c/{slug}", headers=BROWSER, **load))
            results["returning"].append(wrk(f"{base}/c/{slug}", headers=returning, **load))
            results["uncompressed"].append(wrk(f"{base}/c/{slug}", **load))
        floor_env = {"PYTHONPATH": str(ROOT), "GOODLOOP_BENCH_PAGE": str(captured)}
        with server(constant, env=floor_env, ready_path="/", port=constant_port) as base:
            results["floor"].append(wrk(base + "/", headers=BROWSER, **load))
    return results


def capture_page(url: str, into: Path) -> None:
    """A first visit's response as a browser gets it (gzipped), for bench/constant_page.py:
    all its headers but the ones uvicorn and Response write themselves (date, content-length)
    and the request id."""
    name, value = BROWSER[0].split(": ")
    skipped = {b"date", b"content-length", b"x-request-id"}
    with httpx.Client() as client, client.stream("GET", url, headers={name: value}) as response:
        body = b"".join(response.iter_raw())
        raw = response.headers.raw
        headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw if n.lower() not in skipped]
        assert response.headers.get("content-encoding") == "gzip", "the page was not sent gzipped"
    into.write_text(json.dumps({"status": response.status_code, "headers": headers, "body": body.hex()}))


def uvicorn_flags(options: ServerOptions) -> list[str]:
    """`goodloop serve`'s uvicorn options as command-line flags: the baseline is served alike."""
    flags = ["--http", options["http"], "--loop", options["loop"]]
    flags.append("--proxy-headers" if options["proxy_headers"] else "--no-proxy-headers")
    flags.append("--server-header" if options["server_header"] else "--no-server-header")
    flags.append("--access-log" if options["access_log"] else "--no-access-log")
    return flags


def report(results: dict[str, list[Load]], where: str, args: argparse.Namespace) -> None:
    print(
        f"database: {where}; {args.connections} connections, {args.seconds}s per round, {args.rounds} rounds"
    )
    print(f"servers: uvicorn {' '.join(uvicorn_flags(SERVER_OPTIONS))}, one process each")
    floor = "the page's own response as a constant from a Starlette route (bench/constant_page.py)"
    for case, label in (*CASES.items(), ("floor", floor)):
        pairs = list(zip(results["baseline"], results[case], strict=True))
        print(f"GET /c/{{slug}}, {label}:" if case != "floor" else f"Floor, {label}:")
        ratios = []
        for i, (baseline, campaign) in enumerate(pairs, 1):
            ratio = campaign.requests_per_s / baseline.requests_per_s
            p99_ratio = campaign.p99_ms / baseline.p99_ms
            ratios.append((ratio, p99_ratio))
            print(
                f"  round {i}: hello-world {baseline.requests_per_s:7.0f} req/s "
                f"p99 {baseline.p99_ms:6.1f} ms | page {campaign.requests_per_s:7.0f} req/s "
                f"p99 {campaign.p99_ms:6.1f} ms "
                f"errors {campaign.errors} | {ratio:.2f}x, p99 {p99_ratio:.2f}x"
            )
        throughput = statistics.median(r for r, _ in ratios)
        p99 = statistics.median(p for _, p in ratios)
        targets = (" target >= 0.60", " target <= 2.00") if case != "floor" else ("", "")
        print(f"  throughput ratio {throughput:.2f}x of hello-world (median round;{targets[0]})")
        print(f"  p99 ratio        {p99:.2f}x of hello-world's p99 (median round;{targets[1]})")
    # What Goodloop's per-view work costs: the page against the same bytes served as a constant.
    own = statistics.median(
        page.requests_per_s / constant.requests_per_s
        for page, constant in zip(results["campaign"], results["floor"], strict=True)
    )
    print(f"First visits (gzip) against the floor: {own:.2f}x (median round)")


if __name__ == "__main__":
    main()
