"""Property: with a matching program running, any delivery history (duplicates, any order,
concurrent processors) leaves the same matches and pool as delivering once, in order."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaigns.matching.models import Match
from service.db import Database, utcnow
from service.settings import Settings
from tests.campaigns.matching.helpers import World, make_program, make_world
from tests.webhooks.builders import LiveCampaign, deliver, process_all
from tests.webhooks.stripe_events import Payment
from tests.webhooks.test_histories import Plan, build, deliver_messily, plans, renamed
from webhooks.commands import check_ledger


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)


async def match_picture(database: Database, payments: list[Payment]) -> list[tuple[str, int] | None]:
    """Per donation, in order: its live match's status and amount.

    None when it has none or it was voided: a gift refunded before its confirmation was
    processed never gets a match, one refunded after gets a voided one; the money is the same.
    """
    async with database.transaction() as session:
        rows = (
            await session.execute(
                sa.select(Match.donation_id, Match.status, Match.amount_minor).where(
                    Match.donation_id.in_([uuid.UUID(p.donation_id) for p in payments])
                )
            )
        ).all()
    found = {donation_id: (str(status), amount) for donation_id, status, amount in rows if status != "voided"}
    return [found.get(uuid.UUID(p.donation_id)) for p in payments]


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
class TestHistoriesWithMatching:
    @hypothesis_settings(
        max_examples=12,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(plan=plans, seed=st.integers(0, 2**32 - 1))
    async def test_messy_delivery_matches_like_in_order_delivery(
        self, world: World, plan: Plan, seed: int
    ) -> None:
        rng = random.Random(seed)
        ordered_campaign, ordered_payments, events = await build(world.database, world.campaign, plan)
        messy_campaign, messy_payments, _ = await build(world.database, world.campaign, plan)
        await _program_for(world, [ordered_campaign, messy_campaign])
        for evt in events:
            assert (await deliver(world.client, evt, world.settings.webhook_secret)).status_code == 200
        await process_all(world.database)

        await deliver_messily(
            world.client,
            world.database,
            world.settings.webhook_secret,
            renamed(events, ordered_payments, messy_payments),
            rng,
        )
        await process_all(world.database)

        ordered = await match_picture(world.database, ordered_payments)
        assert await match_picture(world.database, messy_payments) == ordered
        assert await check_ledger(world.database) == []


async def _program_for(world: World, campaigns: list[LiveCampaign]) -> None:
    await make_program(
        world,
        budget_minor=10**9,
        campaign_ids=[str(c.id) for c in campaigns],
        starts_at=(utcnow() - timedelta(minutes=1)).isoformat(),
    )
