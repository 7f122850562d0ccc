from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

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
