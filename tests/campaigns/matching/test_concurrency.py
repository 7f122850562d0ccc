"""PostgreSQL: many workers settling gifts at once never reserve more than a pool holds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations import settlement
from campaigns.donations.models import Donation
from campaigns.donations.repository import DonationRef
from campaigns.matching.models import Match, MatchingProgram, MatchStatus
from campaigns.matching.pool import pool_account
from service.db import Database, utcnow
from service.ledger import limited_balance
from service.settings import Settings
from tests import databases
from tests.campaigns.matching.helpers import World, make_program, make_world, pending_balance
from tests.webhooks.builders import LiveCampaign
from webhooks.commands import check_ledger

WORKERS = 60
RUNS = 8


@pytest.fixture
async def wide_database(db_url: str) -> AsyncIterator[Database]:
    """Enough connections for every worker to hold its own transaction at once."""
    async with databases.wide_database(db_url, connections=WORKERS) as database:
        yield database


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)


async def insert_pending(
    database: Database, campaign: LiveCampaign, count: int, amount_minor: int
) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    async with database.transaction() as session:
        for i, donation_id in enumerate(ids):
            session.add(
                Donation(
                    id=donation_id,
                    campaign_id=campaign.id,
                    nonprofit_id=campaign.nonprofit_id,
                    amount_minor=amount_minor,
                    fee_cover_minor=0,
                    currency="eur",
                    donor_email=f"racer-{i}-{donation_id.hex[:6]}@example.org",
                    stripe_checkout_session_id=f"cs_race_{donation_id.hex}",
                )
            )
    return ids


async def settle(database: Database, donation_id: uuid.UUID, start: asyncio.Event) -> None:
    """One worker: confirm one donation in its own transaction, the way the webhook handler does."""
    await start.wait()
    async with database.transaction() as session:
        await settlement.confirm_donation(session, ref=DonationRef(donation_id=donation_id))
        await settlement.refresh_campaign_totals(session)


async def race(database: Database, donation_ids: list[uuid.UUID]) -> None:
    start = asyncio.Event()
    workers = [asyncio.create_task(settle(database, d, start)) for d in donation_ids]
    await asyncio.sleep(0.05)  # every worker is waiting at the line
    start.set()
    await asyncio.gather(*workers)


async def reserved_by_program(database: Database, program_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    async with database.transaction() as session:
        rows = await session.execute(
            sa.select(Match.program_id, sa.func.sum(Match.amount_minor))
            .where(Match.program_id.in_(program_ids), Match.status != MatchStatus.VOIDED)
            .group_by(Match.program_id)
        )
        return {program_id: int(total) for program_id, total in rows}


# Row locks between concurrent transactions are what is under test: PostgreSQL only (run just
# that backend rather than report a SQLite variant as skipped).
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
class TestRaceForTheLastOfThePool:
    async def test_sixty_workers_never_reserve_more_than_the_budget(
        self, world: World, wide_database: Database
    ) -> None:
        for run in range(RUNS):
            # Budget for 12.5 gifts of 1,000 matched 1:1: most workers must find the pool empty.
            program_id = await make_program(
                world,
                budget_minor=12_500,
                name=f"race {run}",
                starts_at=(utcnow() - timedelta(seconds=30)).isoformat(),
            )
            donation_ids = await insert_pending(wide_database, world.campaign, WORKERS, 1_000)
            await race(wide_database, donation_ids)

            reserved = (await reserved_by_program(wide_database, [program_id]))[program_id]
            async with wide_database.transaction() as session:
                program = await session.get(MatchingProgram, program_id)
                assert program is not None
                amounts = sorted(
                    (
                        await session.scalars(
                            sa.select(Match.amount_minor).where(Match.program_id == program_id)
                        )
                    ).all()
                )
            assert reserved == program.reserved_minor == 12_500, f"run {run}"
            assert amounts == [500] + [1_000] * 12, f"run {run}: one partial match, then the pool is empty"
            assert program.available_minor == 0
            # The ledger's own flagged balance of the pool: exactly full, never past it.
            async with wide_database.transaction() as session:
                flagged = await limited_balance(session, code=pool_account(program_id), currency="eur")
            assert flagged is not None
            assert (flagged.debits_pending_minor, flagged.available_minor) == (12_500, 0), f"run {run}"
            # Previous runs' programs are ended so they do not match this run's gifts.
            await world.client.post(
                f"/api/v1/admin/matching-programs/{program_id}/end", headers=world.finance.headers
            )
        assert await check_ledger(wide_database) == []

    async def test_two_pools_shared_by_every_gift_do_not_deadlock(
        self, world: World, wide_database: Database
    ) -> None:
        first = await make_program(world, budget_minor=20_000, name="first")
        second = await make_program(
            world, budget_minor=7_000, name="second", policy={"policy": "fixed_ratio", "ratio_bps": 5_000}
        )
        donation_ids = await insert_pending(wide_database, world.campaign, WORKERS, 1_000)

        await race(wide_database, donation_ids)

        reserved = await reserved_by_program(wide_database, [first, second])
        assert reserved == {first: 20_000, second: 7_000}
        nonprofit_reserved = await pending_balance(
            wide_database, code=f"nonprofit:{world.campaign.nonprofit_id}:matches", currency="eur"
        )
        assert nonprofit_reserved == 27_000
        async with wide_database.transaction() as session:
            for program_id, budget in ((first, 20_000), (second, 7_000)):
                flagged = await limited_balance(session, code=pool_account(program_id), currency="eur")
                assert flagged is not None
                assert (flagged.debits_pending_minor, flagged.available_minor) == (budget, 0)
        assert await check_ledger(wide_database) == []
