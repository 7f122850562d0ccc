"""One match's review page: what it shows (reasons, the donor's cluster, the referral chain, the
campaign's pattern), and deciding on it through its forms, with every refusal a message."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from markupsafe import escape

from campaigns.matching import lifecycle
from campaigns.matching.models import MatchStatus
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import Member
from service.auth.models import AdminRole
from service.db import Database
from service.settings import Settings
from tests.campaigns.matching.helpers import World, give, make_program, make_world, only_match, supporter_link
from tests.console.helpers import insert_console_admin, sign_in, signed_in_admin, submit
from tests.console.review_builders import (
    audit_actions,
    end_holds,
    held_gift,
    member_email,
    reload_match,
    tune_signal,
)


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)


def detail_url(match_id: object) -> str:
    return f"/admin/matches/{match_id}"


async def decide(client: httpx.AsyncClient, match_id: object, verb: str, note: str = "") -> httpx.Response:
    return await submit(client, f"{detail_url(match_id)}/{verb}", {"note": note}, page=detail_url(match_id))


async def switch_to(
    client: httpx.AsyncClient, database: Database, role: AdminRole = AdminRole.REVIEWER
) -> str:
    """Sign out whoever is signed in, and sign in a new admin; returns their email."""
    client.cookies.clear()
    admin = await signed_in_admin(client, database, role=role)
    return admin.email


class TestWhatTheReviewerSees:
    async def test_reasons_cluster_and_referral_chain(self, client: httpx.AsyncClient, world: World) -> None:
        await make_program(world)
        alice = await give(world, email="alice@example.org", fingerprint="alice-card-fp")
        bob = await give(
            world,
            email="bob@example.org",
            referral_link_id=await supporter_link(world.database, alice, world.campaign),
        )
        again = await give(
            world,
            email="Alice+again@example.org",
            fingerprint="alice-card-fp",
            referral_link_id=await supporter_link(world.database, bob, world.campaign),
        )
        match = await only_match(world.database, again)
        await signed_in_admin(client, world.database)

        page = (await client.get(detail_url(match.id))).text

        for reason in match.risk_reasons:
            assert f'data-code="{reason["code"]}"' in page
            assert str(escape(reason["sentence"])) in page
        assert {"referral_cycle", "referral_loop"} & {r["code"] for r in match.risk_reasons}
        # The donor's first gift is in the cluster, linked by the card and the (normalised) email.
        cluster = page[page.index('id="identity-cluster"') : page.index('id="referral-chain"')]
        assert f'data-donation-id="{alice.donation_id}"' in cluster
        assert re.search(r'class="linked-by">card, email<', cluster)
        # The chain: Bob's link brought this gift, Alice's link brought Bob's; Alice is this donor.
        chain = page[page.index('id="referral-chain"') : page.index('id="campaign-pattern"')]
        assert chain.count('class="chain-step"') == 2
        assert "b***@e***.org" in chain and "a***@e***.org" in chain
        assert "same donor as this gift" in chain
        # Never the raw identity: no email address, no card fingerprint.
        assert "alice@example.org" not in page and "bob@example.org" not in page
        assert "alice-card-fp" not in page

    async def test_the_campaigns_last_fourteen_days_as_bars(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await make_program(world)
        for _ in range(2):
            await give(world, device="one-browser")
        last = await give(world, device="one-browser")
        await signed_in_admin(client, world.database)

        page = (await client.get(detail_url((await only_match(world.database, last)).id))).text

        assert page.count('<rect class="bar"') == 14
        assert re.search(r"<title>\d{4}-\d\d-\d\d: 3 donations</title>", page)
        assert "no history before these 14 days" in page
        shared = page[page.index('id="shared-groups"') :]
        assert "3 donors, 3 gifts" in shared and "includes this gift" in shared
        assert "one-browser" not in page

    async def test_a_decided_match_offers_no_buttons(self, client: httpx.AsyncClient, world: World) -> None:
        await make_program(world, hold_days=0)
        match = await held_gift(world)
        await end_holds(world)
        assert (await reload_match(world.database, match.id)).status is MatchStatus.APPROVED
        await signed_in_admin(client, world.database)

        page = (await client.get(detail_url(match.id))).text
        assert 'id="decided"' in page and 'id="approve"' not in page

    async def test_an_unknown_match_is_a_404_page(self, client: httpx.AsyncClient, world: World) -> None:
        await signed_in_admin(client, world.database)
        response = await client.get(detail_url("7d1f3f0e-0000-4000-8000-000000000000"))
        assert response.status_code == 404


class TestAppeal:
    async def test_an_appealed_match_is_back_with_the_message_and_fresh_approvals(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await make_program(world, hold_days=0, review_threshold_minor=1_000)
        match = await held_gift(world, amount_minor=2_000)
        await end_holds(world)
        await switch_to(client, world.database)
        assert (await decide(client, match.id, "approve")).status_code == 303
        assert (await decide(client, match.id, "reject", "Card seen in a ring")).status_code == 303
        async with world.database.transaction() as session:
            owner = await session.scalar(
                sa.select(Member).where(Member.nonprofit_id == world.campaign.nonprofit_id)
            )
            assert owner is not None
            actor = Actor(
                nonprofit_id=owner.nonprofit_id,
                role=owner.role,
                member_id=owner.id,
                api_key_id=None,
                label=owner.email,
            )
            await lifecycle.appeal_match(
                session, actor=actor, match_id=match.id, message="The donor is our board chair's neighbour."
            )

        page = (await client.get(detail_url(match.id))).text

        assert 'id="appeal"' in page and "board chair&#39;s neighbour" in page
        assert (await reload_match(world.database, match.id)).status is MatchStatus.HELD_FOR_REVIEW
        # The appeal starts the decision afresh: the earlier approval does not count.
        assert "0 of 2 approvals" in page and 'id="approve"' in page
        assert 'data-action="match.appealed"' in page


class TestDeciding:
    async def test_approving_writes_the_audit_log(self, client: httpx.AsyncClient, world: World) -> None:
        await make_program(world, hold_days=0)
        await tune_signal(world, "new_nonprofit", weight=100)
        match = await held_gift(world)
        await end_holds(world)
        email = await switch_to(client, world.database)

        response = await decide(client, match.id, "approve", "Known donor, checked by phone")

        assert response.status_code == 303
        assert response.headers["location"] == detail_url(match.id)
        assert (await reload_match(world.database, match.id)).status is MatchStatus.APPROVED
        assert ("match.approved", email, "Known donor, checked by phone") in await audit_actions(
            world.database, subject_id=str(match.id)
        )
        page = (await client.get(detail_url(match.id))).text
        assert "The match is approved." in page
        assert 'data-action="match.approved"' in page

    async def test_rejecting_needs_a_reason_and_writes_the_audit_log(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await make_program(world, hold_days=0)
        await tune_signal(world, "new_nonprofit", weight=100)
        match = await held_gift(world)
        await end_holds(world)
        email = await switch_to(client, world.database)

        refused = await decide(client, match.id, "reject", "  ")
        assert refused.status_code == 422
        assert 'id="note-error"' in refused.text
        assert (await reload_match(world.database, match.id)).status is MatchStatus.HELD_FOR_REVIEW

        response = await decide(client, match.id, "reject", "Same card as a known ring")
        assert response.status_code == 303
        assert (await reload_match(world.database, match.id)).status is MatchStatus.VOIDED
        assert ("match.rejected", email, "Same card as a known ring") in await audit_actions(
            world.database, subject_id=str(match.id)
        )

    async def test_two_people_approve_a_large_match(self, client: httpx.AsyncClient, world: World) -> None:
        await make_program(world, hold_days=0, review_threshold_minor=1_000)
        match = await held_gift(world, amount_minor=2_000)
        await end_holds(world)
        first = await switch_to(client, world.database)

        page = (await client.get(detail_url(match.id))).text
        assert "0 of 2 approvals" in page and "Approve (first of two)" in page
        assert (await decide(client, match.id, "approve")).status_code == 303
        page = (await client.get(detail_url(match.id))).text
        assert "1 of 2 approvals; another admin must approve" in page
        assert 'id="waiting-for-second"' in page and 'id="approve"' not in page
        assert (await reload_match(world.database, match.id)).status is MatchStatus.HELD_FOR_REVIEW

        # The same person cannot be the second approver, even by posting the form again.
        again = await decide(client, match.id, "approve")
        assert again.status_code == 409
        assert 'id="decision-error"' in again.text
        assert (await reload_match(world.database, match.id)).status is MatchStatus.HELD_FOR_REVIEW

        second = await switch_to(client, world.database)
        page = (await client.get(detail_url(match.id))).text
        assert "Approve (second of two)" in page
        assert (await decide(client, match.id, "approve", "Second look: fine")).status_code == 303
        assert (await reload_match(world.database, match.id)).status is MatchStatus.APPROVED
        actions = await audit_actions(world.database, subject_id=str(match.id))
        assert ("match.approval_recorded", first, None) in actions
        assert ("match.approved", second, "Second look: fine") in actions

    async def test_a_member_of_the_nonprofit_sees_no_buttons_and_cannot_post(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await make_program(world, hold_days=0, review_threshold_minor=1_000)
        match = await held_gift(world, amount_minor=2_000)
        await end_holds(world)
        insider = await insert_console_admin(
            world.database, email=await member_email(world.database, world.campaign.nonprofit_id)
        )
        client.cookies.clear()
        await sign_in(client, insider)

        page = (await client.get(detail_url(match.id))).text
        assert 'id="own-organisation"' in page
        assert 'id="approve"' not in page and 'id="reject"' not in page

        for verb in ("approve", "reject"):
            forged = await decide(client, match.id, verb, "looks fine to me")
            assert forged.status_code == 403
            assert "You belong to this nonprofit" in forged.text
        assert (await reload_match(world.database, match.id)).status is MatchStatus.HELD_FOR_REVIEW

    async def test_finance_can_read_but_not_decide(self, client: httpx.AsyncClient, world: World) -> None:
        await make_program(world, hold_days=0, review_threshold_minor=1_000)
        match = await held_gift(world, amount_minor=2_000)
        await end_holds(world)
        await switch_to(client, world.database, AdminRole.FINANCE)

        page = await client.get(detail_url(match.id))
        assert page.status_code == 200 and 'id="read-only"' in page.text
        forged = await decide(client, match.id, "approve")
        assert forged.status_code == 403
        assert (await reload_match(world.database, match.id)).status is MatchStatus.HELD_FOR_REVIEW

    async def test_a_decision_on_a_decided_match_is_a_message(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await make_program(world, hold_days=0)
        match = await held_gift(world)
        await end_holds(world)
        await switch_to(client, world.database)

        response = await decide(client, match.id, "approve", "again")
        assert response.status_code == 409
        assert 'id="decision-error"' in response.text
        assert (await reload_match(world.database, match.id)).status is MatchStatus.APPROVED

    async def test_a_form_without_its_csrf_token_is_refused(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await make_program(world, hold_days=0)
        await tune_signal(world, "new_nonprofit", weight=100)
        match = await held_gift(world)
        await end_holds(world)
        await switch_to(client, world.database)

        response = await client.post(f"{detail_url(match.id)}/approve", data={"note": "x"})
        assert response.status_code == 403
        assert (await reload_match(world.database, match.id)).status is MatchStatus.HELD_FOR_REVIEW
