"""Approve a campaign's spike: held spike matches grouped per campaign, one audited decision that
keeps every per-match rule (two approvers at the threshold, own organisation, low risk only)."""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy as sa

from campaigns.matching.models import Match, MatchStatus
from campaigns.nonprofits.models import Member, MemberRole
from service.audit import AuditEntry
from service.db import Database
from service.settings import Settings
from tests.campaigns.matching.helpers import World, make_program, make_world
from tests.console.helpers import insert_console_admin, page_token, sign_in, signed_in_admin
from tests.console.review_builders import audit_actions, end_holds, held_gift, reload_match, tune_signal

SPIKES = "/admin/matches/spikes"


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)


async def spike_of_few_cards(world: World, *, gifts: int = 21, large_every: int = 0) -> list[Match]:
    """A burst on one campaign paid by two cards (a ring, or a family's giving night).

    The card signals are switched down so that the spike (60) and probation (40) are what holds.
    """
    await tune_signal(world, "card_velocity", threshold=1_000)
    await tune_signal(world, "card_many_donors", threshold=1_000)
    await tune_signal(world, "campaign_shared_cards", threshold=100_000)
    matches = []
    for i in range(gifts):
        large = large_every and i % large_every == 0
        matches.append(
            await held_gift(world, amount_minor=2_000 if large else 500, fingerprint=f"card-{i % 2}")
        )
    await end_holds(world)
    return matches


async def post_approval(client: httpx.AsyncClient, campaign_id: uuid.UUID, **data: str) -> httpx.Response:
    page = (await client.get(SPIKES)).text
    seen = page.split(f'action="/admin/matches/spikes/{campaign_id}/approve"', 1)[1]
    digest = seen.split('name="seen" value="', 1)[1].split('"', 1)[0]
    form = {"csrf_token": await page_token(client, SPIKES), "seen": digest, **data}
    return await client.post(f"{SPIKES}/{campaign_id}/approve", data=form)


class TestSpikePage:
    async def test_a_reviewer_approves_a_campaigns_spike_in_one_audited_decision(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await make_program(world, hold_days=0, review_threshold_minor=1_000)
        matches = await spike_of_few_cards(world, large_every=7)
        held = [
            m
            for m in matches
            if (await reload_match(world.database, m.id)).status is MatchStatus.HELD_FOR_REVIEW
        ]
        spiked = [
            m
            for m in held
            if "campaign_spike"
            in {r["code"] for r in (await reload_match(world.database, m.id)).risk_reasons}
        ]
        large = [m for m in spiked if m.amount_minor >= 1_000]
        small = [m for m in spiked if m.amount_minor < 1_000]
        assert large and small
        admin = await signed_in_admin(client, world.database)

        page = (await client.get(SPIKES)).text
        row = page[page.index(f'id="spike-{world.campaign.id}"') :]
        assert f'<td class="num held-count">{len(spiked)}</td>' in row
        assert '<td class="num donor-count">' in row

        response = await post_approval(client, world.campaign.id, note="A family's giving night")

        assert response.status_code == 200, response.text
        assert f"{len(small)} approved" in response.text
        for match in small:
            assert (await reload_match(world.database, match.id)).status is MatchStatus.APPROVED
            assert ("match.approved", admin.email, "A family's giving night") in await audit_actions(
                world.database, subject_id=str(match.id)
            )
        for match in large:
            # At or above the review threshold: still two people, one by one.
            assert (await reload_match(world.database, match.id)).status is MatchStatus.HELD_FOR_REVIEW
        decision = await _campaign_entries(world.database, world.campaign.id)
        assert [(e.action, e.actor_label, e.note) for e in decision] == [
            ("campaign.spike_approved", admin.email, "A family's giving night")
        ]
        assert decision[0].after is not None and decision[0].after["approved"] == len(small)
        assert set(decision[0].after["approved_match_ids"]) == {str(m.id) for m in small}

    async def test_a_spike_that_changed_since_the_page_was_loaded_is_not_approved_unseen(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await make_program(world, hold_days=0)
        matches = await spike_of_few_cards(world)
        await signed_in_admin(client, world.database)
        form = {"csrf_token": await page_token(client, SPIKES), "seen": "an older page"}

        response = await client.post(f"{SPIKES}/{world.campaign.id}/approve", data=form)

        assert response.status_code == 409
        assert "changed since you loaded the page" in response.text
        assert (await reload_match(world.database, matches[-1].id)).status is MatchStatus.HELD_FOR_REVIEW

    async def test_nobody_approves_the_spike_of_their_own_organisation(
        self, client: httpx.AsyncClient, world: World, database: Database
    ) -> None:
        await make_program(world, hold_days=0)
        matches = await spike_of_few_cards(world)
        admin = await insert_console_admin(database)
        async with database.transaction() as session:
            session.add(
                Member(
                    nonprofit_id=world.campaign.nonprofit_id,
                    email=admin.email,
                    role=MemberRole.EDITOR,
                    password_hash="!",
                )
            )
        await sign_in(client, admin)

        response = await post_approval(client, world.campaign.id)

        assert response.status_code == 403
        assert "You belong to this nonprofit" in response.text
        assert (await reload_match(world.database, matches[-1].id)).status is MatchStatus.HELD_FOR_REVIEW
        assert await _campaign_entries(world.database, world.campaign.id) == []

    async def test_without_a_csrf_token_nothing_is_approved(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await make_program(world, hold_days=0)
        matches = await spike_of_few_cards(world)
        await signed_in_admin(client, world.database)

        response = await client.post(f"{SPIKES}/{world.campaign.id}/approve", data={"seen": "x"})

        assert response.status_code == 403
        assert (await reload_match(world.database, matches[-1].id)).status is MatchStatus.HELD_FOR_REVIEW


async def _campaign_entries(database: Database, campaign_id: uuid.UUID) -> list[AuditEntry]:
    async with database.transaction() as session:
        rows = await session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.subject_type == "campaign", AuditEntry.subject_id == str(campaign_id))
            .where(AuditEntry.action == "campaign.spike_approved")
        )
        return list(rows.all())
