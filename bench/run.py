"""Benchmarks: each figure is a ratio against a baseline measured in the same run.

Machines here are shared and noisy, so absolute milliseconds mean little; the baseline is the
cheapest request the server can answer (GET /healthz, no database), and every other figure is
its median latency divided by the baseline's, interleaved round by round so noise hits both.

    .venv/bin/python bench/run.py [--rounds 300] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from migrations.runner import migrate_to_head  # noqa: E402
from service.auth.admins import create_admin  # noqa: E402
from service.auth.models import AdminRole  # noqa: E402
from service.db import Database  # noqa: E402
from service.logging import configure_logging  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.live_server import serve  # noqa: E402

Request = Callable[[httpx.Client], httpx.Response]


def seed(client: httpx.Client, database_url: str) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    signed_up = client.post(
        "/api/v1/nonprofits",
        json={
            "name": "Bench Relief",
            "contact_email": f"bench-{suffix}@bench-relief.org",
            "password": "correct horse battery",
            "country": "IE",
            "registration_number": "CHY 1",
            "website": "https://bench-relief.org",
        },
    ).json()
    headers = {"Authorization": f"Bearer {signed_up['api_key']}"}

    async def admin_token() -> str:
        database = Database.from_url(database_url)
        try:
            async with database.transaction() as session:
                created = await create_admin(
                    session, email=f"bench-{suffix}@goodloop.org", role=AdminRole.REVIEWER
                )
            return created.token
        finally:
            await database.dispose()

    token = asyncio.run(admin_token())
    client.post(
        f"/api/v1/admin/nonprofits/{signed_up['id']}/verify",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )
    campaign_id = ""
    for i in range(50):
        body = {
            "title": f"Campaign {i}",
            "slug": f"bench-{suffix}-{i}",
            "story": "# Help\n\nSome **story**.",
            "currency": "eur",
            "goal_minor": 500_000,
            "suggested_amounts_minor": [1000, 2500],
        }
        campaign_id = client.post("/api/v1/campaigns", json=body, headers=headers).json()["id"]
    return {"key": signed_up["api_key"], "campaign_id": campaign_id, "suffix": suffix}


def measure(base_url: str, database_url: str, rounds: int) -> dict[str, float]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        data = seed(client, database_url)
        headers = {"Authorization": f"Bearer {data['key']}"}
        counter = iter(range(10**9))
        cases: dict[str, Request] = {
            "baseline GET /healthz": lambda c: c.get("/healthz"),
            "GET /readyz (database ping)": lambda c: c.get("/readyz"),
            "GET /api/v1/campaigns (page of 20)": lambda c: c.get("/api/v1/campaigns", headers=headers),
            "GET /api/v1/campaigns/{id}": lambda c: c.get(
                f"/api/v1/campaigns/{data['campaign_id']}", headers=headers
            ),
            "PATCH /api/v1/campaigns/{id}": lambda c: c.patch(
                f"/api/v1/campaigns/{data['campaign_id']}",
                json={"goal_minor": 500_000 + next(counter)},
                headers=headers,
            ),
        }
        timings: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(10):  # warm-up: connection pools, template caches
            for request in cases.values():
                request(client)
        for _ in range(rounds):
            for name, request in cases.items():
                started = time.perf_counter()
                response = request(client)
                timings[name].append(time.perf_counter() - started)
                if response.status_code >= 400:
                    raise SystemExit(f"{name} answered {response.status_code}: {response.text}")
    return {name: statistics.median(values) for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        migrate_to_head(database_url)
        settings = Settings(
            database_url=database_url, secret_key="bench-" + "k" * 40, data_dir=Path(tmp), log_json=True
        )
        configure_logging(json=True, level=logging.WARNING)
        with serve(settings) as base_url:
            medians = measure(base_url, database_url, args.rounds)
    baseline = medians["baseline GET /healthz"]
    backend = database_url.split(":", 1)[0]
    print(f"backend: {backend}; rounds: {args.rounds}; figure = median latency / median of GET /healthz")
    for name, median in medians.items():
        print(f"  {name:<40} {median / baseline:6.2f}x")


if __name__ == "__main__":
    main()
