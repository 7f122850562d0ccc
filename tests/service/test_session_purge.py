"""Expired sign-in rows are dropped by the worker; live ones stay."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from service.auth.models import AuthSession, SessionKind
from service.auth.sessions import SESSION_LIFETIME, open_session
from service.db import Database, utcnow
from service.worker import purge_sessions


class TestPurgeSessions:
    async def test_only_sessions_long_expired_are_removed(self, database: Database) -> None:
        now = utcnow()
        async with database.transaction() as session:
            old = await open_session(
                session,
                kind=SessionKind.MEMBER,
                subject_id=uuid.uuid4(),
                now=now - SESSION_LIFETIME - timedelta(days=2),
            )
            live = await open_session(session, kind=SessionKind.ADMIN, subject_id=uuid.uuid4(), now=now)

        removed = await purge_sessions(database)

        async with database.transaction() as session:
            left = set((await session.scalars(sa.select(AuthSession.id))).all())
        assert removed == 1
        assert left == {live.row.id}
        assert old.row.id not in left
