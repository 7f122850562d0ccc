from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from service import db as db_module
from service.auth.models import Admin, AdminRole
from service.db import Database, add_unique
from service.errors import Conflict


def _admin(email: str) -> Admin:
    suffix = uuid.uuid4().hex
    return Admin(email=email, role=AdminRole.REVIEWER, token_prefix=suffix[:16], token_digest=suffix + suffix)


async def _emails(database: Database) -> list[str]:
    async with database.transaction() as session:
        return list((await session.scalars(sa.select(Admin.email).order_by(Admin.email))).all())


class TestTransactions:
    async def test_a_unit_of_work_is_atomic_even_after_a_released_savepoint(self, database: Database) -> None:
        async def failing_unit() -> None:
            async with database.transaction() as session:
                await add_unique(session, _admin("a@goodloop.org"), Conflict("taken"))
                raise RuntimeError("the request failed after the savepoint was released")

        with pytest.raises(RuntimeError):
            await failing_unit()

        assert await _emails(database) == []

    async def test_a_clash_rolls_back_only_the_savepoint(self, database: Database) -> None:
        async with database.transaction() as session:
            session.add(_admin("kept@goodloop.org"))
            await session.flush()
            await add_unique(session, _admin("dup@goodloop.org"), Conflict("taken"))
            clash = _admin("dup@goodloop.org")
            with pytest.raises(Conflict):
                await add_unique(session, clash, Conflict("taken"))

        assert await _emails(database) == ["dup@goodloop.org", "kept@goodloop.org"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
class TestPooledConnections:
    async def test_an_idle_connection_killed_by_the_server_is_replaced_not_failed(
        self, database: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async with database.transaction() as session:
            first_backend = await session.scalar(sa.text("SELECT pg_backend_pid()"))
        # The server drops the pooled connection (a restart, a proxy timeout) while it is idle.
        other = Database.from_url(db_url)
        try:
            async with other.transaction() as session:
                await session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first_backend})
        finally:
            await other.dispose()
        monkeypatch.setattr(db_module, "IDLE_PING_AFTER_S", 0.0)

        async with database.transaction() as session:
            backend = await session.scalar(sa.text("SELECT pg_backend_pid()"))

        assert backend != first_backend

    async def test_a_connection_in_steady_use_is_not_pinged(
        self, database: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        statements: list[str] = []
        sa.event.listen(
            database.engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
        )
        for _ in range(3):
            async with database.single_statement() as connection:
                await connection.execute(sa.text("SELECT 1"))

        assert statements == ["SELECT 1"] * 3
