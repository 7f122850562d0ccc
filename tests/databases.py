"""Test databases: a migrated SQLite file copied per test, or a migrated PostgreSQL truncated per test.

The schema always comes from `alembic upgrade head`, never from metadata.create_all, so the
tests exercise the migrations that production runs.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from migrations.metadata import target_metadata
from migrations.runner import upgrade
from service.db import create_engine

BACKENDS = ("sqlite", "postgresql")


def postgres_required() -> bool:
    """In CI a PostgreSQL test that would skip must fail instead."""
    return os.environ.get("GOODLOOP_REQUIRE_POSTGRES") == "1" or os.environ.get("CI", "").lower() == "true"


def postgres_url_or_skip() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    message = (
        "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql+asyncpg://user:pw@127.0.0.1/goodloop_test)"
    )
    if postgres_required():
        pytest.fail(message + "; CI requires them", pytrace=False)
    pytest.skip(message)


def migrate(url: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def truncate_postgres(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in target_metadata.sorted_tables)

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                # TRUNCATE fires no row triggers, so the append-only audit log can be emptied here.
                await conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        finally:
            await engine.dispose()

    asyncio.run(run())


def copy_sqlite_template(template: Path, directory: Path) -> str:
    target = directory / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


def fresh_postgres_database(url: str) -> tuple[str, str]:
    """Create an empty database beside the test database; returns (url, name) for dropping."""
    name = f"goodloop_t_{uuid.uuid4().hex[:12]}"
    _outside_transaction(url, f'CREATE DATABASE "{name}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres_database(url: str, name: str) -> None:
    _outside_transaction(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _outside_transaction(url: str, statement: str) -> None:
    """CREATE/DROP DATABASE refuse to run inside a transaction block."""

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(sa.text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())
