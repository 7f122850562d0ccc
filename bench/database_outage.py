"""Answering while PostgreSQL is away: median latency of a page that reads the database, up,
refused (a TCP proxy in front of it cut) and back, in one run; compare the ratio only.

    TEST_DATABASE_URL=postgresql+asyncpg://... .venv/bin/python -m bench.database_outage
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests import databases
from tests.webhooks.proxy import Proxy


async def main() -> None:
    server = os.environ["TEST_DATABASE_URL"]
    url, name = await asyncio.to_thread(databases.fresh_postgres_database, server)
    await asyncio.to_thread(databases.migrate, url)
    u = make_url(url)
    proxy = Proxy(target_host=u.host or "127.0.0.1", target_port=u.port or 5432)
    await proxy.start()
    db = Database.from_url(u.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    settings = Settings(
        database_url=url,
        secret_key="x" * 40,
        public_base_url="http://testserver",
        data_dir=Path(tempfile.mkdtemp()),
        log_json=True,
    )
    app = create_app(settings, database=db)

    async def sample(c: httpx.AsyncClient, n: int) -> tuple[float, set[int]]:
        times, statuses = [], set()
        for _ in range(n):
            t = time.perf_counter()
            r = await c.get("/c/no-such-campaign")
            times.append(time.perf_counter() - t)
            statuses.add(r.status_code)
        return statistics.median(times) * 1000, statuses

    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c,
        ):
            await sample(c, 20)
            up = await sample(c, 200)
            await proxy.cut()
            down = await sample(c, 200)
            await proxy.start()
            back = await sample(c, 200)
        for label, (median_ms, statuses) in (("up", up), ("refused", down), ("back", back)):
            print(f"database {label}: median {median_ms:.2f} ms, statuses {sorted(statuses)}")
        print(f"refused/up latency ratio {down[0] / up[0]:.2f}")
    finally:
        await db.dispose()
        await asyncio.to_thread(databases.drop_postgres_database, server, name)


if __name__ == "__main__":
    asyncio.run(main())
