"""Run Alembic from code (CLI, `goodloop serve`, tests) without an alembic.ini on disk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from service.db import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template",
        "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    config.set_main_option("timezone", "UTC")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_sync(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def downgrade_sync(connection: Connection, revision: str = "base") -> None:
    command.downgrade(alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run(engine, upgrade_sync, revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    await _run(engine, downgrade_sync, revision)


async def _run(engine: AsyncEngine, step: Callable[[Connection, str], None], revision: str) -> None:
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the original; with foreign keys
            # enforced, dropping a referenced table fails once rows point at it. The switch only
            # takes effect outside a transaction, so it is flipped before BEGIN and after COMMIT.
            await conn.run_sync(_set_foreign_keys, "OFF")
        try:
            async with conn.begin():
                await conn.run_sync(step, revision)
                if sqlite:
                    violations = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if violations:
                        raise RuntimeError(f"migration left dangling foreign keys: {violations[:5]}")
        finally:
            if sqlite:
                await conn.run_sync(_set_foreign_keys, "ON")


def _set_foreign_keys(connection: Connection, value: str) -> None:
    # Straight on the driver connection: a SQLAlchemy execute would open a transaction first.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"PRAGMA foreign_keys={value}")
    cursor.close()


def migrate_to_head(database_url: str) -> None:
    """Blocking entry point for the CLI: upgrade the database at database_url to head."""

    async def run() -> None:
        engine = create_engine(database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
