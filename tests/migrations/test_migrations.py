from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from migrations.metadata import target_metadata
from migrations.runner import MIGRATIONS_DIR, alembic_config, downgrade, upgrade
from service.db import create_engine
from tests import databases


@pytest.fixture(params=databases.BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    server = databases.postgres_url_or_skip()
    url, name = databases.fresh_postgres_database(server)
    yield url
    databases.drop_postgres_database(server, name)


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


class TestMigrations:
    async def test_upgrade_downgrade_upgrade_round_trips(self, empty_db_url: str) -> None:
        engine = create_engine(empty_db_url)
        try:
            await upgrade(engine)
            after_first = await _tables(empty_db_url)
            await downgrade(engine)
            after_downgrade = await _tables(empty_db_url)
            await upgrade(engine)
            after_second = await _tables(empty_db_url)
        finally:
            await engine.dispose()

        assert after_first == {t.name for t in target_metadata.sorted_tables}
        assert after_downgrade == set()
        assert after_second == after_first

    async def test_models_and_migrations_agree(self, empty_db_url: str) -> None:
        engine = create_engine(empty_db_url)
        try:
            await upgrade(engine)
            async with engine.connect() as conn:
                diff: list[Any] = await conn.run_sync(
                    lambda c: compare_metadata(
                        MigrationContext.configure(c, opts={"compare_type": True}), target_metadata
                    )
                )
        finally:
            await engine.dispose()

        assert diff == []

    def test_revision_files_are_named_by_date_and_slug(self) -> None:
        files = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py"))

        assert files
        for name in files:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{4}_[a-z0-9_]+\.py", name), name

    def test_history_is_a_single_line(self) -> None:
        script = ScriptDirectory.from_config(alembic_config())

        assert len(script.get_heads()) == 1
        assert len(script.get_bases()) == 1


class TestUpgradeKeepsData:
    async def test_upgrade_from_the_first_release_keeps_rows_that_reference_altered_tables(
        self, empty_db_url: str
    ) -> None:
        first = "a7d1f0c2e9b4"  # the first released schema: nonprofits, campaigns, audit log
        engine = create_engine(empty_db_url)
        try:
            await upgrade(engine, first)
            async with engine.begin() as conn:
                for statement in _FIRST_RELEASE_ROWS:
                    await conn.execute(sa.text(statement))
            await upgrade(engine)
            async with engine.connect() as conn:
                campaigns = (await conn.execute(sa.text("SELECT slug, raised_minor FROM campaigns"))).all()
                charges = (
                    (await conn.execute(sa.text("SELECT charges_enabled FROM nonprofits"))).scalars().all()
                )
        finally:
            await engine.dispose()

        assert campaigns == [("winter-meals", 0)]
        assert charges == [False]


_FIRST_RELEASE_ROWS = [
    "INSERT INTO nonprofits (id, name, contact_email, country, registration_number, website, status, "
    "created_at) VALUES ('11111111111141118111111111111111', 'Harbor', 'h@harbor.org', 'IE', 'CHY 1', "
    "'https://harbor.org', 'verified', '2026-11-01 00:00:00')",
    "INSERT INTO campaigns (id, nonprofit_id, slug, title, story_markdown, story_html, currency, goal_minor, "
    "suggested_amounts_minor, min_amount_minor, allowed_embed_origins, status, created_at, updated_at) "
    "VALUES ('22222222222241118111222222222222', '11111111111141118111111111111111', 'winter-meals', "
    "'Winter', 's', '<p>s</p>', 'eur', 1000, '[]', 50, '[]', 'live', '2026-11-01 00:00:00', "
    "'2026-11-01 00:00:00')",
]
