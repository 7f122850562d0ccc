"""A viral day is not fraud, self-dealing does not pay: the spike counts people, not gifts, and
what the nonprofit's own people give counts against its campaign-level matches."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from campaigns.matching import identity, lifecycle
from campaigns.matching.models import Match, MatchStatus
from service.db import Database, utcnow
from service.settings import Settings
from tests.campaigns.matching.helpers import World, give, make_program, make_world, only_match
from tests.console.review_builders import member_email
from tests.webhooks import stripe_events

SPIKE = 21
"""Gifts within the hour: past the engine's 20-gift floor for a spike, on a campaign with no history."""


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)


async def codes(world: World, payment: stripe_events.Payment) -> set[str]:
    return {r["code"] for r in (await only_match(world.database, payment)).risk_reasons}


async def end_holds(world: World) -> None:
    async with world.database.transaction() as session:
        await lifecycle.release_due_matches(session, now=utcnow() + timedelta(seconds=1))


class TestCampaignSpike:
    async def test_a_spike_of_many_distinct_people_holds_nothing(self, world: World) -> None:
        # The test nonprofit was verified today: on probation, like a new nonprofit going viral.
        await make_program(world, hold_days=0)
        crowd = [await give(world) for _ in range(SPIKE)]  # each a card, a mailbox of their own
        await end_holds(world)

        assert "campaign_spike" not in await codes(world, crowd[-1])
        for payment in crowd:
            assert (await only_match(world.database, payment)).status is MatchStatus.APPROVED

    async def test_a_spike_of_few_identities_is_flagged_and_held(self, world: World) -> None:
        await make_program(world, hold_days=0)
        ring = [await give(world, fingerprint=f"ring-card-{i % 2}") for i in range(SPIKE)]
        await end_holds(world)

        last = await only_match(world.database, ring[-1])
        assert "campaign_spike" in {r["code"] for r in last.risk_reasons}
        spike = next(r for r in last.risk_reasons if r["code"] == "campaign_spike")
        # Two cards; the last gift's own card may still be on its way (Stripe's order varies).
        assert re.search(f"{SPIKE} gifts from only [23] distinct donors", spike["sentence"])
        assert last.status is MatchStatus.HELD_FOR_REVIEW

    async def test_a_crowd_with_a_ring_hidden_in_it_is_still_a_crowd_for_the_spike(
        self, world: World
    ) -> None:
        # The spike stays quiet; the ring's own card is what gives it away (per-card signals).
        await make_program(world, hold_days=0)
        for _ in range(SPIKE):
            await give(world)
        ring = [await give(world, fingerprint="hidden-card") for _ in range(4)]

        found = await codes(world, ring[-1])
        assert "campaign_spike" not in found
        assert {"card_velocity", "card_many_donors"} & found


class TestOwnPeople:
    async def test_a_relative_seen_once_at_the_owners_home_is_flagged_everywhere(self, world: World) -> None:
        await make_program(world, hold_days=0)
        async with world.database.transaction() as session:
            await identity.remember_nonprofit_key(
                session, nonprofit_id=world.campaign.nonprofit_id, key=identity.network_key("owner-home")
            )
        at_home = await give(world, fingerprint="aunt-card", network="owner-home")
        elsewhere = await give(world, fingerprint="aunt-card", network="aunts-own-net")
        stranger = await give(world, network="aunts-own-net")
        # Looked at again when the holds end, whatever order Stripe's events came in.
        await end_holds(world)

        assert "owner_login_network" in await codes(world, at_home)
        assert "owner_login_network" in await codes(world, elsewhere)
        assert "owner_login_network" not in await codes(world, stranger)

    async def test_a_challenge_bonus_stood_on_the_owners_own_gifts_goes_to_a_person(
        self, world: World
    ) -> None:
        program_id = await make_program(
            world,
            hold_days=0,
            policy={
                "policy": "challenge_unlock",
                "bonus_minor": 10_000,
                "target_donors": 3,
                "deadline": (utcnow() + timedelta(days=1)).isoformat(),
            },
        )
        owner = await member_email(world.database, world.campaign.nonprofit_id)
        local, _, domain = owner.partition("@")
        for n in range(3):
            # The owner topping up their own campaign under tagged copies of their login address.
            await give(world, email=f"{local}+{n}@{domain}")
        for _ in range(3):
            await give(world)
        await end_holds(world)

        bonus = await _campaign_match(world.database, program_id)
        assert "nonprofit_flagged" in {r["code"] for r in bonus.risk_reasons}
        assert bonus.status is MatchStatus.HELD_FOR_REVIEW

    async def test_a_challenge_bonus_of_strangers_only_is_approved(self, world: World) -> None:
        program_id = await make_program(
            world,
            hold_days=0,
            policy={
                "policy": "challenge_unlock",
                "bonus_minor": 10_000,
                "target_donors": 3,
                "deadline": (utcnow() + timedelta(days=1)).isoformat(),
            },
        )
        for _ in range(3):
            await give(world)
        await end_holds(world)

        assert (await _campaign_match(world.database, program_id)).status is MatchStatus.APPROVED


async def _campaign_match(database: Database, program_id: uuid.UUID) -> Match:
    async with database.transaction() as session:
        found = (
            await session.scalars(
                sa.select(Match).where(Match.program_id == program_id, Match.donation_id.is_(None))
            )
        ).all()
    assert len(found) == 1, found
    return found[0]
