"""A receipt that cannot be drawn leaves the mail batch; the others are sent."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from campaigns.receipts import mailing
from campaigns.receipts.models import Receipt
from service.db import Database
from service.settings import Settings
from tests.campaigns.receipts.helpers import NL_PROFILE, issuer, paid, pending_gift, receipts, send


class TestUndrawableReceipt:
    async def test_it_leaves_the_batch_and_the_others_are_sent(
        self,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        org = await issuer(client, database, profile=NL_PROFILE)
        bad = await pending_gift(database, org.campaign, email="bad@example.org")
        await send(client, database, settings, paid(bad))
        good = await pending_gift(database, org.campaign, email="good@example.org")
        await send(client, database, settings, paid(good))
        [broken] = await receipts(database, donor_email="bad@example.org")
        async with database.transaction() as session:
            # A time zone this machine's tzdata no longer knows: drawing raises KeyError.
            snapshot = {**broken.issuer, "time_zone": "Mars/Olympus_Mons"}
            await session.execute(sa.update(Receipt).where(Receipt.id == broken.id).values(issuer=snapshot))
        monkeypatch.setattr(mailing, "BATCH", 1)
        try:
            assert await mailing.email_receipts(database) == 0  # the broken one, first in line
            assert await mailing.email_receipts(database) == 1  # it stepped aside
            assert await mailing.email_receipts(database) == 0
        finally:
            mailing._failed.pop(broken.id, None)
        [sent] = await receipts(database, donor_email="good@example.org")
        [unsent] = await receipts(database, donor_email="bad@example.org")
        assert sent.emailed_at is not None and unsent.emailed_at is None
