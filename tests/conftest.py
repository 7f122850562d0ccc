"""Shared fixtures: one database per backend, the app, an HTTP client."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from campaigns import wiring
from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests import databases

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-production-checks"

pytest_plugins = ["tests.payouts.fixtures", "tests.service.log_capture", "tests.mail_server"]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the cores. A worker spends much of its time waiting on
    PostgreSQL, Chromium, a CLI subprocess or a live server, so a third worker on two cores
    cut the suite from 12.6 to 9.3 minutes here."""
    return len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) + 1


SLOW_TESTS: dict[str, float] = {
    # Seconds each took in a CI run (--durations), by node id prefix. A module named whole keeps
    # its tests together (the audit shares one browser and one seeded app).
    "tests/browser/test_accessibility.py": 240,
    "tests/test_api_fuzz.py::test_api_never_answers_500_and_matches_its_schema[postgresql-negative]": 90,
    "tests/test_api_fuzz.py::test_api_never_answers_500_and_matches_its_schema[sqlite-negative]": 90,
    "tests/campaigns/matching/test_concurrency.py::TestRaceForTheLastOfThePool": 80,
    "tests/test_api_fuzz.py::test_api_never_answers_500_and_matches_its_schema[sqlite-positive]": 60,
    "tests/webhooks/test_resilience.py::TestWorkerKilled": 60,
    "tests/service/mail/test_worker_process.py": 70,
    "tests/test_api_fuzz.py::test_api_never_answers_500_and_matches_its_schema[postgresql-positive]": 45,
    "tests/sim/test_season.py::TestViralDay": 75,
    "tests/sim/test_season.py::TestSeason": 45,
    "tests/sim/test_season.py::TestClock": 35,
    "tests/test_code_quality.py": 45,
    "tests/campaigns/matching/test_properties.py::TestSeasons": 45,
    "tests/webhooks/test_bad_input.py::TestBadInput": 55,
    "tests/campaigns/matching/test_histories.py::TestHistoriesWithMatching": 35,
}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slowest tests first, spread over the workers.

    `--dist worksteal` hands each worker a contiguous share of the collection and lets an idle
    worker steal the tail of the longest queue. In collection order the slow tests sat deep in
    the shares (the fuzzers, simulator and code quality all in the last one), started minutes
    late and ran one after another there, ending the run alone. Here each share starts with its
    part of them (longest first, onto the share with the least so far), and the quick tests
    follow in their usual order, which the others steal."""
    workers = int(getattr(config, "workerinput", {}).get("workercount", 0))
    if workers > 1 and config.getoption("dist", None) == "worksteal":
        items[:] = slow_first(items, workers)


def slow_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    slow: dict[str, list[pytest.Item]] = {}
    rest: list[pytest.Item] = []
    for item in items:
        key = next((prefix for prefix in SLOW_TESTS if item.nodeid.startswith(prefix)), None)
        (rest if key is None else slow.setdefault(key, [])).append(item)
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for key in sorted(slow, key=lambda k: -SLOW_TESTS[k]):
        least = loads.index(min(loads))
        heads[least] += slow[key]
        loads[least] += SLOW_TESTS[key]
    # The shares worksteal hands out at the start (xdist.scheduler.worksteal.check_schedule).
    ordered: list[pytest.Item] = []
    left, quick = len(items), iter(rest)
    for worker in range(workers):
        share = left // (workers - worker)
        left -= share
        ordered += heads[worker]
        ordered += itertools.islice(quick, max(0, share - len(heads[worker])))
    ordered += quick
    return ordered


@pytest.fixture(scope="session", autouse=True)
def _domain_wired() -> None:
    # The start-up wiring the app, the worker and the simulator run (campaigns.wiring): tests
    # that call domain code without building an app still reach every higher package.
    wiring.wire()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    databases.migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def sqlite_scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where each test's SQLite copy lives: in memory (/dev/shm) where there is one, because
    SQLite syncs the disk on every commit (~4 ms here, of which the suite makes thousands)."""
    with databases.memory_directory() as directory:
        yield directory or tmp_path_factory.mktemp("sqlite")


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    """A database of this test session's own beside TEST_DATABASE_URL, so runs never collide."""
    server_url = databases.postgres_url_or_skip()
    url, name = databases.fresh_postgres_database(server_url)
    databases.migrate(url)
    yield url
    databases.drop_postgres_database(server_url, name)


@pytest.fixture(params=databases.BACKENDS)
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database on each backend; every test gets its own clean state."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        scratch: Path = request.getfixturevalue("sqlite_scratch")
        copy = databases.copy_sqlite_template(template, scratch)
        yield copy
        databases.remove_sqlite(copy)
        return
    url: str = request.getfixturevalue("postgres_migrated")
    databases.truncate_postgres(url)
    yield url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key=TEST_SECRET_KEY,
        public_base_url="http://testserver",
        data_dir=tmp_path / "data",
        log_json=False,
    )


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database.from_url(settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[Starlette]:
    application = create_app(settings, database=database)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
