"""Rows that outlived their use: reset links a day past their expiry, digests a month old (a
digest row only stops the job from making that day's digest twice; after a month no member's
due day is that old)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from campaigns.notifications.models import MemberDigest, PasswordReset
from service.db import Database
from service.unit_of_work import UnitOfWork
from service.worker import Job

RESETS_KEPT = timedelta(days=1)
DIGESTS_KEPT = timedelta(days=31)


async def purge(session: UnitOfWork) -> int:
    now = session.now()
    resets = await session.execute(
        sa.delete(PasswordReset).where(PasswordReset.expires_at < now - RESETS_KEPT)
    )
    digests = await session.execute(
        sa.delete(MemberDigest).where(MemberDigest.day < (now - DIGESTS_KEPT).date())
    )
    return sum(int(getattr(result, "rowcount", 0) or 0) for result in (resets, digests))


async def purge_notification_rows(database: Database) -> int:
    async with database.transaction() as session:
        return await purge(session)


JOB = Job("purge_notification_rows", purge_notification_rows, timedelta(hours=1))
