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


class TestLedgerBalanceLimits:
    async def test_upgrade_flags_pool_accounts_with_sums_rebuilt_from_their_transfers(
        self, empty_db_url: str
    ) -> None:
        engine = create_engine(empty_db_url)
        try:
            await upgrade(engine, "b2c3d4e5f6a7")
            async with engine.begin() as conn:
                for account_id, code in _ACCOUNTS:
                    await conn.execute(
                        sa.text(
                            "INSERT INTO ledger_accounts (id, code, currency, created_at)"
                            " VALUES (:id, :code, 'eur', '2026-12-01 00:00:00')"
                        ),
                        {"id": account_id, "code": code},
                    )
                for number, (debit, credit, amount, kind, pending) in enumerate(_TRANSFERS):
                    await conn.execute(
                        sa.text(
                            "INSERT INTO ledger_transfers (id, idempotency_key, debit_account_id,"
                            " credit_account_id, amount_minor, currency, code, kind, pending_id, created_at)"
                            " VALUES (:id, :key, :debit, :credit, :amount, 'eur', 'c', :kind, :pending,"
                            " '2026-12-01 00:00:00')"
                        ),
                        {
                            "id": _transfer_id(number),
                            "key": f"k{number}",
                            "debit": debit,
                            "credit": credit,
                            "amount": amount,
                            "kind": kind,
                            "pending": None if pending is None else _transfer_id(pending),
                        },
                    )
            await upgrade(engine)
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.text(
                            "SELECT account_id, balance_limit, debits_pending_minor, debits_posted_minor,"
                            " credits_pending_minor, credits_posted_minor FROM ledger_account_balances"
                        )
                    )
                ).all()
        finally:
            await engine.dispose()

        # funded 1,000 + clawed back 50; open hold 300; paid 200 + returned 40; the voided 100 is gone.
        assert [(str(r[0]).replace("-", ""), *r[1:]) for r in rows] == [
            (_POOL, "debits_must_not_exceed_credits", 300, 240, 0, 1_050)
        ]


_POOL = "aaaaaaaaaaaa4aaa8aaaaaaaaaaaaaaa"
_FUNDER = "bbbbbbbbbbbb4bbb8bbbbbbbbbbbbbbb"
_NONPROFIT = "cccccccccccc4ccc8ccccccccccccccc"
_ACCOUNTS = [
    (_POOL, "program:dddddddd-dddd-4ddd-8ddd-dddddddddddd:pool"),
    (_FUNDER, "funder:platform"),
    (_NONPROFIT, "nonprofit:eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee:matches"),
]
# (debit, credit, amount, kind, index of the pending transfer a phase two settles)
_TRANSFERS: list[tuple[str, str, int, str, int | None]] = [
    (_FUNDER, _POOL, 1_000, "posted", None),
    (_POOL, _NONPROFIT, 300, "pending", None),
    (_POOL, _NONPROFIT, 200, "pending", None),
    (_POOL, _NONPROFIT, 200, "post_pending", 2),
    (_POOL, _NONPROFIT, 100, "pending", None),
    (_POOL, _NONPROFIT, 100, "void_pending", 4),
    (_NONPROFIT, _POOL, 50, "posted", None),
    (_POOL, _FUNDER, 40, "posted", None),
]


def _transfer_id(number: int) -> str:
    return f"{number:08d}00004000800000000000000{number:01d}"[:32]
