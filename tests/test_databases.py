"""The suite's own database plumbing: a PostgreSQL test starts from empty tables, although
the reset between tests deletes rows instead of truncating the whole schema."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import sqlalchemy as sa

from migrations.metadata import target_metadata
from service.db import Database
from service.settings import Settings
from tests import databases
from tests.campaigns.matching.helpers import give, make_program, make_world_with_org, only_match


async def row_counts(database: Database) -> dict[str, int]:
    async with database.single_statement() as conn:
        return {
            table.name: int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
            for table in target_metadata.sorted_tables
        }


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
class TestPostgresReset:
    async def test_every_table_is_empty_afterwards_the_append_only_ones_too(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, db_url: str
    ) -> None:
        world, _ = await make_world_with_org(client, database, settings)
        await make_program(world)
        match = await only_match(database, await give(world))
        response = await client.post(
            f"/api/v1/admin/matches/{match.id}/approve", json={}, headers=world.reviewer.headers
        )
        assert response.status_code == 200, response.text
        filled = {name for name, count in (await row_counts(database)).items() if count}
        # The append-only tables refuse DELETE, and parents must go after their children.
        assert {"audit_log", "ledger_transfers", "ledger_accounts", "nonprofits", "matches"} <= filled

        await database.dispose()
        # asyncio.run inside: not on this test's running loop.
        await asyncio.to_thread(databases.truncate_postgres, db_url)

        assert {name for name, count in (await row_counts(database)).items() if count} == set()

    async def test_commits_do_not_wait_for_the_disk(self, database: Database) -> None:
        # The suite commits thousands of times; waiting for each WAL flush cost it minutes.
        async with database.single_statement() as conn:
            assert await conn.scalar(sa.text("SHOW synchronous_commit")) == "off"
