"""Matching's recurring rule: first_installment (the default) matches only the gift made at
checkout; each_installment matches every paid installment, up to the caps like any gift."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from campaigns.donations.models import Donation
from campaigns.matching.models import Match, MatchStatus
from service.db import Database
from service.settings import Settings
from tests.campaigns.matching.helpers import make_program, make_world, program_payload
from tests.webhooks.builders import LiveCampaign, deliver, process_all
from tests.webhooks.recurring_events import MONTH, T0, insert_recurring_donation
from tests.webhooks.stripe_events import event


async def matched_installments(database: Database) -> list[int]:
    async with database.transaction() as session:
        rows = await session.scalars(
            sa.select(Donation.installment)
            .join(Match, Match.donation_id == Donation.id)
            .where(Match.status != MatchStatus.VOIDED)
            .order_by(Donation.installment)
        )
        return [n for n in rows.all() if n is not None]


async def three_months(
    client: httpx.AsyncClient, database: Database, settings: Settings, campaign: LiveCampaign
) -> None:
    gift = await insert_recurring_donation(database, campaign, amount_minor=1000)
    events = [*gift.started_events(at=T0)]
    for month in (1, 2):
        events += gift.installment().paid_events(at=T0 + month * MONTH)
    events.append(event("customer.subscription.updated", gift.subscription(), created=T0 + 2 * MONTH))
    for evt in events:
        assert (await deliver(client, evt, settings.webhook_secret)).status_code == 200
    await process_all(database)


class TestRecurringRule:
    async def test_by_default_only_the_first_installment_is_matched(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        await make_program(world)

        await three_months(client, database, settings, world.campaign)

        assert await matched_installments(database) == [1]

    async def test_each_installment_matches_every_paid_installment(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        await make_program(world, recurring_rule="each_installment")

        await three_months(client, database, settings, world.campaign)

        assert await matched_installments(database) == [1, 2, 3]

    async def test_each_installment_still_stops_at_the_per_donor_cap(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)
        await make_program(world, recurring_rule="each_installment", per_donor_cap_minor=2000)

        await three_months(client, database, settings, world.campaign)

        async with database.transaction() as session:
            total = await session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Match.amount_minor), 0)).where(
                    Match.status != MatchStatus.VOIDED
                )
            )
        assert total == 2000

    @pytest.mark.parametrize("rule", ["first_installment", "each_installment"])
    async def test_the_program_api_takes_and_shows_the_rule(
        self, client: httpx.AsyncClient, database: Database, settings: Settings, rule: str
    ) -> None:
        world = await make_world(client, database, settings)
        program_id = await make_program(world, recurring_rule=rule)

        shown = await client.get(
            f"/api/v1/admin/matching-programs/{program_id}", headers=world.finance.headers
        )

        assert shown.status_code == 200, shown.text
        assert shown.json()["recurring_rule"] == rule

    async def test_an_unknown_rule_is_refused(
        self, client: httpx.AsyncClient, database: Database, settings: Settings
    ) -> None:
        world = await make_world(client, database, settings)

        response = await client.post(
            "/api/v1/admin/matching-programs",
            json=program_payload(recurring_rule="every_other"),
            headers=world.finance.headers,
        )

        assert response.status_code == 422
