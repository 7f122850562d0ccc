"""Receipt numbers: gapless and unique per nonprofit and year, also when many units confirm gifts
at once on PostgreSQL (parallel webhook batches, parallel units, some rolled back), and the year
is read in the issuer's time zone."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations import settlement
from campaigns.donations.repository import DonationRef
from campaigns.receipts import issuing
from campaigns.receipts.models import Receipt, ReceiptCounter
from service.clock import SettableClock
from service.db import Database
from service.settings import Settings
from tests.campaigns.receipts.helpers import (
    NL_PROFILE,
    US_PROFILE,
    issuer,
    paid,
    pending_gift,
    receipts,
    send,
)
from tests.webhooks.builders import deliver
from webhooks.processor import process_due_events


class Boom(Exception):
    """Raised inside a unit after its receipt was numbered, so the unit rolls back."""


async def confirm(database: Database, donation_id: str, *, fail: bool = False) -> None:
    async with database.transaction() as session:
        await settlement.confirm_donation(session, ref=DonationRef(donation_id=uuid.UUID(donation_id)))
        if fail:
            await issuing.number_receipts(session)
            raise Boom


def numbers(found: list[Receipt]) -> list[int]:
    return sorted(r.number or 0 for r in found)


class TestNumbers:
    async def test_numbers_run_per_nonprofit(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        first = await issuer(client, database, profile=NL_PROFILE)
        second = await issuer(client, database, profile=US_PROFILE)
        gifts = [await pending_gift(database, org.campaign) for org in (first, second, first, second, first)]
        for gift in gifts:
            await send(client, database, settings, paid(gift))

        mine = await receipts(database, nonprofit_id=first.campaign.nonprofit_id)
        theirs = await receipts(database, nonprofit_id=second.campaign.nonprofit_id)
        assert numbers(mine) == [1, 2, 3]
        assert numbers(theirs) == [1, 2]

    async def test_a_rolled_back_unit_leaves_no_gap(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org = await issuer(client, database)
        gifts = [await pending_gift(database, org.campaign) for _ in range(3)]
        await confirm(database, gifts[0].donation_id)
        with pytest.raises(Boom):
            await confirm(database, gifts[1].donation_id, fail=True)
        await confirm(database, gifts[2].donation_id)
        await confirm(database, gifts[1].donation_id)

        found = await receipts(database)
        assert numbers(found) == [1, 2, 3]
        assert [r.donation_id for r in found] == [
            uuid.UUID(g.donation_id) for g in (gifts[0], gifts[2], gifts[1])
        ]


class TestYears:
    async def test_the_year_is_read_in_the_issuers_time_zone_and_numbers_start_again(
        self, client: httpx.AsyncClient, settings: Settings, database: Database
    ) -> None:
        org = await issuer(client, database, profile=NL_PROFILE)
        gifts = [await pending_gift(database, org.campaign) for _ in range(3)]
        clock = SettableClock(datetime(2026, 12, 31, 22, 30, tzinfo=UTC))  # 23:30 in Amsterdam
        at_year_end = Database.from_url(settings.database_url, clock=clock)
        try:
            await confirm(at_year_end, gifts[0].donation_id)
            clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # 00:30 on 1 January there
            await confirm(at_year_end, gifts[1].donation_id)
            await confirm(at_year_end, gifts[2].donation_id)
        finally:
            await at_year_end.dispose()

        found = await receipts(database)
        assert [r.display_number for r in found] == ["2026-000001", "2027-000001", "2027-000002"]
        assert [r.gift_date.isoformat() for r in found] == ["2026-12-31", "2027-01-01", "2027-01-01"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
class TestConcurrency:
    async def test_parallel_webhook_batches_number_without_gaps_or_duplicates(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        org = await issuer(client, database, profile=NL_PROFILE)
        gifts = [await pending_gift(database, org.campaign, email=f"d{i}@example.org") for i in range(40)]
        for gift in gifts:
            for evt in paid(gift):
                assert (await deliver(client, evt, settings.webhook_secret)).status_code == 200

        async def processor() -> None:
            # Small batches, so that many batches run at once and meet on the counter row.
            while await process_due_events(database, limit=3) > 0:
                pass

        await asyncio.gather(*(processor() for _ in range(8)))
        await send(client, database, settings, [])

        found = await receipts(database)
        assert len(found) == 40
        assert numbers(found) == list(range(1, 41))
        assert len({r.donation_id for r in found}) == 40

    async def test_parallel_units_with_rollbacks_number_without_gaps(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await issuer(client, database)
        gifts = [await pending_gift(database, org.campaign, email=f"d{i}@example.org") for i in range(30)]
        failing = {gift.donation_id for gift in gifts[::3]}

        async def run(donation_id: str) -> None:
            with contextlib.suppress(Boom):
                await confirm(database, donation_id, fail=donation_id in failing)

        await asyncio.gather(*(run(gift.donation_id) for gift in gifts))

        found = await receipts(database)
        assert len(found) == 20
        assert numbers(found) == list(range(1, 21))
        assert {str(r.donation_id) for r in found}.isdisjoint(failing)
        async with database.transaction() as session:
            counter = await session.scalar(sa.select(ReceiptCounter.last_number))
        assert counter == 20
