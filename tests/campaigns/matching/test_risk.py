"""Risk signals: each fires on the pattern it names, stays quiet on honest look-alikes, and
decides whether a match is approved or held for review when its hold ends."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from campaigns.matching import identity, lifecycle
from campaigns.matching.models import MatchStatus, NonprofitIdentityKey
from service.db import Database, utcnow
from service.settings import Settings
from tests.campaigns.dashboard.helpers import log_in
from tests.campaigns.matching.helpers import (
    World,
    give,
    make_program,
    make_world,
    only_match,
    reload,
    supporter_link,
)
from tests.webhooks import stripe_events


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)


async def codes(world: World, payment: stripe_events.Payment) -> set[str]:
    return {r["code"] for r in (await only_match(world.database, payment)).risk_reasons}


async def end_holds(world: World) -> None:
    async with world.database.transaction() as session:
        await lifecycle.release_due_matches(session, now=utcnow() + timedelta(seconds=1))


class TestDonorPatterns:
    async def test_one_card_under_many_names_from_many_places(self, world: World) -> None:
        await make_program(world, hold_days=0)
        other = await make_world(world.client, world.database, world.settings)
        first = await give(world, fingerprint="ring-card", network="proxy-1")
        await give(world, fingerprint="ring-card", network="proxy-2", campaign=other.campaign)
        third = await give(world, fingerprint="ring-card", network="proxy-1")

        assert "card_many_donors" not in await codes(world, first)
        assert "card_many_donors" in await codes(world, third)

    async def test_a_family_card_at_one_home_is_not_a_ring(self, world: World) -> None:
        await make_program(world, hold_days=0)
        family = [await give(world, fingerprint="family-card", network="home") for _ in range(3)]
        assert "card_many_donors" not in await codes(world, family[-1])

    async def test_a_campaign_fed_by_few_cards_under_many_names(self, world: World) -> None:
        await make_program(world, hold_days=0)
        first = await give(world, fingerprint="card-a")
        second = await give(world, fingerprint="card-a")
        await end_holds(world)

        assert "campaign_shared_cards" in await codes(world, second)
        # The first gift looked clean when it settled; at the end of its hold it does not.
        held = await only_match(world.database, first)
        assert held.status is MatchStatus.HELD_FOR_REVIEW
        assert "campaign_shared_cards" in {r["code"] for r in held.risk_reasons}

    async def test_a_household_among_many_donors_is_not_a_ring(self, world: World) -> None:
        await make_program(world, hold_days=0)
        for _ in range(4):
            await give(world)
        couple = [await give(world, fingerprint="family-card") for _ in range(2)]
        await end_holds(world)

        for payment in couple:
            assert (await only_match(world.database, payment)).status is MatchStatus.APPROVED

    async def test_one_browser_giving_again_and_again(self, world: World) -> None:
        await make_program(world)
        for _ in range(3):
            await give(world, device="dev-1")
        fourth = await give(world, device="dev-1")
        assert "shared_device" in await codes(world, fourth)

    async def test_gifts_from_where_the_nonprofit_signs_in(
        self, world: World, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await make_program(world)
        async with world.database.transaction() as session:
            await identity.remember_nonprofit_key(
                session, nonprofit_id=world.campaign.nonprofit_id, key=identity.network_key("home-net")
            )
        from_home = await give(world, network="home-net")
        elsewhere = await give(world, network="cafe-net")

        assert "owner_login_network" in await codes(world, from_home)
        assert "owner_login_network" not in await codes(world, elsewhere)

    async def test_donors_who_refer_each_other(self, world: World) -> None:
        await make_program(world)
        alice = await give(world, email="alice@example.org", fingerprint="a-card")
        bob = await give(
            world,
            email="bob@example.org",
            referral_link_id=await supporter_link(world.database, alice, world.campaign),
        )
        alice_again = await give(
            world,
            email="alice@example.org",
            fingerprint="a-card",
            referral_link_id=await supporter_link(world.database, bob, world.campaign),
        )
        assert {"referral_cycle", "referral_loop"} & await codes(world, alice_again)
        assert not {"referral_cycle", "referral_loop"} & await codes(world, bob)


class TestDecision:
    async def test_probation_alone_does_not_hold(self, world: World) -> None:
        await make_program(world, hold_days=0)
        payment = await give(world)
        await end_holds(world)
        match = await only_match(world.database, payment)
        assert "new_nonprofit" in {r["code"] for r in match.risk_reasons}  # the nonprofit was verified today
        assert match.status is MatchStatus.APPROVED

    async def test_every_held_match_says_why_in_a_sentence(self, world: World) -> None:
        await make_program(world, hold_days=0, review_threshold_minor=1_000)
        payment = await give(world, amount_minor=2_000)
        await end_holds(world)
        match = await reload(world.database, await only_match(world.database, payment))
        assert match.status is MatchStatus.HELD_FOR_REVIEW
        assert all(r["sentence"].endswith(".") and r["weight"] > 0 for r in match.risk_reasons)


class TestDashboardSignIn:
    async def test_signing_in_remembers_the_members_browser_and_network(
        self, world: World, client: httpx.AsyncClient
    ) -> None:
        from campaigns.nonprofits.models import Member

        async with world.database.transaction() as session:
            member = await session.scalar(
                sa.select(Member).where(Member.nonprofit_id == world.campaign.nonprofit_id)
            )
        assert member is not None
        client.cookies.set("gl_device", "browser-of-the-owner")
        await log_in(client, member.email)

        async with world.database.transaction() as session:
            kinds = set(
                (
                    await session.scalars(
                        sa.select(NonprofitIdentityKey.kind).where(
                            NonprofitIdentityKey.nonprofit_id == world.campaign.nonprofit_id
                        )
                    )
                ).all()
            )
        assert kinds == {"device", "network"}
