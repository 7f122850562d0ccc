"""The matching engine, driven the way production drives it: signed webhooks through the processor."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from campaigns.matching import lifecycle, pool, rounds
from campaigns.matching.models import Match, MatchingProgram, MatchStatus, RoundResultRecord
from service import audit, ledger
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import Settings
from tests.builders import insert_admin
from tests.campaigns.matching.helpers import (
    World,
    give,
    live_total,
    make_program,
    make_world,
    matches_for,
    only_match,
    pending_balance,
    program_row,
    refund,
    reload,
    supporter_link,
)
from tests.webhooks import stripe_events
from tests.webhooks.builders import clone_campaign, deliver, process_all
from webhooks.commands import check_ledger


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)


async def redeliver_all(world: World) -> None:
    """Every stored event delivered again and processed: replays must change nothing."""
    from webhooks.models import WebhookEvent

    async with world.database.transaction() as session:
        await session.execute(
            sa.update(WebhookEvent).values(processed_at=None, attempts=0, next_attempt_at=None)
        )
    await process_all(world.database)


class TestFixedRatio:
    async def test_settled_gift_reserves_its_match_in_pool_and_ledger(self, world: World) -> None:
        program_id = await make_program(world, policy={"policy": "fixed_ratio", "ratio_bps": 15_000})
        payment = await give(world, amount_minor=2_000)

        match = await only_match(world.database, payment)
        assert (match.status, match.amount_minor, match.currency) == (MatchStatus.PENDING, 3_000, "eur")
        program = await program_row(world.database, program_id)
        assert (program.reserved_minor, program.available_minor) == (3_000, 97_000)
        reserved = await pending_balance(
            world.database, code=pool.matches_account(world.campaign.nonprofit_id), currency="eur"
        )
        assert reserved == 3_000
        assert await check_ledger(world.database) == []

    async def test_replayed_events_reserve_nothing_more(self, world: World) -> None:
        program_id = await make_program(world)
        payment = await give(world, amount_minor=2_000)

        await redeliver_all(world)

        assert len(await matches_for(world.database, payment)) == 1
        assert (await program_row(world.database, program_id)).reserved_minor == 2_000

    async def test_delayed_payment_earns_nothing_until_it_settles(self, world: World) -> None:
        program_id = await make_program(world)
        payment = await give(world, process=False)
        async with world.database.transaction() as session:
            from webhooks.models import WebhookEvent

            await session.execute(sa.delete(WebhookEvent))
        processing = payment.checkout_session(payment_status="unpaid")
        await deliver(
            world.client,
            stripe_events.event("checkout.session.completed", processing),
            world.settings.webhook_secret,
        )
        await process_all(world.database)
        assert await matches_for(world.database, payment) == []

        succeeded = stripe_events.event(
            "checkout.session.async_payment_succeeded", payment.checkout_session()
        )
        await deliver(world.client, succeeded, world.settings.webhook_secret)
        await process_all(world.database)
        assert (await only_match(world.database, payment)).amount_minor == 2_500
        assert (await program_row(world.database, program_id)).reserved_minor == 2_500

    async def test_program_in_another_currency_or_campaign_list_does_not_match(self, world: World) -> None:
        other = await clone_campaign(world.database, world.campaign)
        await make_program(world, campaign_ids=[str(other.id)])
        await make_program(world, currency="usd")

        payment = await give(world)

        assert await matches_for(world.database, payment) == []


class TestCaps:
    async def test_per_donation_cap(self, world: World) -> None:
        await make_program(world, per_donation_cap_minor=1_000)
        payment = await give(world, amount_minor=5_000)
        assert (await only_match(world.database, payment)).amount_minor == 1_000

    async def test_per_donor_cap_spans_emails_linked_by_one_card(self, world: World) -> None:
        await make_program(world, per_donor_cap_minor=3_000)
        first = await give(world, amount_minor=2_000, email="ana@example.org", fingerprint="card-ana")
        second = await give(world, amount_minor=2_000, email="ana.other@example.org", fingerprint="card-ana")

        assert (await only_match(world.database, first)).amount_minor == 2_000
        assert (await only_match(world.database, second)).amount_minor == 1_000

    async def test_plus_addressing_is_the_same_donor(self, world: World) -> None:
        await make_program(world, per_donor_cap_minor=2_500)
        await give(world, amount_minor=2_000, email="Bo@Example.org")
        second = await give(world, amount_minor=2_000, email="bo+again@example.org")
        assert (await only_match(world.database, second)).amount_minor == 500

    async def test_per_campaign_cap(self, world: World) -> None:
        await make_program(world, per_campaign_cap_minor=3_000)
        await give(world, amount_minor=2_000)
        second = await give(world, amount_minor=2_000)
        third = await give(world, amount_minor=2_000)
        assert (await only_match(world.database, second)).amount_minor == 1_000
        assert await matches_for(world.database, third) == []

    async def test_low_pool_gives_a_partial_match_or_none(self, world: World) -> None:
        partial = await make_program(world, budget_minor=1_500, name="partial ok")
        strict = await make_program(world, budget_minor=1_500, allow_partial=False, name="all or nothing")
        await give(world, amount_minor=1_000)
        last = await give(world, amount_minor=1_000)

        by_program = {m.program_id: m.amount_minor for m in await matches_for(world.database, last)}
        assert by_program == {partial: 500}
        assert (await program_row(world.database, strict)).available_minor == 500
        assert (await program_row(world.database, partial)).available_minor == 0


class TestEligibility:
    async def test_owner_giving_under_a_tagged_address_earns_nothing(
        self, world: World, client: httpx.AsyncClient
    ) -> None:
        await make_program(world)
        owner_email = await _owner_email(world)
        local, domain = owner_email.split("@")
        payment = await give(world, email=f"{local}+gift@{domain}")
        assert await matches_for(world.database, payment) == []

    async def test_a_card_used_by_the_owner_taints_other_names(self, world: World) -> None:
        await make_program(world)
        owner_email = await _owner_email(world)
        await give(world, email=owner_email, fingerprint="owner-card")
        sock_puppet = await give(world, email="fan123@example.org", fingerprint="owner-card")
        assert await matches_for(world.database, sock_puppet) == []

    async def test_a_card_arriving_late_still_links_the_owner(self, world: World) -> None:
        from tests.campaigns.matching.helpers import insert_pending

        await make_program(world)
        fan = await give(world, email="fan@example.org", fingerprint="shared-card")
        owner_email = await _owner_email(world)
        owner = await insert_pending(world.database, world.campaign, amount_minor=1_000, email=owner_email)
        # The confirmation first (the owner earns nothing), the card only afterwards.
        for evt in (
            stripe_events.event("checkout.session.completed", owner.checkout_session(email=owner_email)),
            stripe_events.event("charge.succeeded", owner.charge(fingerprint="shared-card")),
        ):
            await deliver(world.client, evt, world.settings.webhook_secret)
            await process_all(world.database)

        match = await only_match(world.database, fan)
        assert (match.status, match.void_reason) == (MatchStatus.VOIDED, "owner_linked")

    async def test_risky_payment_earns_nothing(self, world: World) -> None:
        await make_program(world, max_risk_score=60)
        payment = await give(world, risk_score=75)
        assert await matches_for(world.database, payment) == []

    async def test_early_fraud_warning_voids_a_reserved_match(self, world: World) -> None:
        program_id = await make_program(world)
        payment = await give(world)
        await deliver(
            world.client,
            stripe_events.event("radar.early_fraud_warning.created", payment.early_fraud_warning()),
            world.settings.webhook_secret,
        )
        await process_all(world.database)

        match = await only_match(world.database, payment)
        assert (match.status, match.void_reason) == (MatchStatus.VOIDED, "early_fraud_warning")
        assert (await program_row(world.database, program_id)).available_minor == 100_000

    async def test_below_minimum_earns_nothing(self, world: World) -> None:
        await make_program(world, min_donation_minor=1_000)
        payment = await give(world, amount_minor=900)
        assert await matches_for(world.database, payment) == []


async def _owner_email(world: World) -> str:
    from campaigns.nonprofits.models import Member

    async with world.database.transaction() as session:
        email = await session.scalar(
            sa.select(Member.email).where(Member.nonprofit_id == world.campaign.nonprofit_id)
        )
    assert email is not None
    return email


class TestRefundsAndDisputes:
    async def test_partial_refund_voids_in_proportion(self, world: World) -> None:
        program_id = await make_program(world)
        payment = await give(world, amount_minor=3_000)
        await refund(world, payment, amount_minor=1_000)
        await redeliver_all(world)

        match = await only_match(world.database, payment)
        assert (match.amount_minor, match.original_minor, match.revision) == (2_000, 3_000, 1)
        program = await program_row(world.database, program_id)
        assert program.reserved_minor == 2_000
        reserved = await pending_balance(
            world.database, code=pool.matches_account(world.campaign.nonprofit_id), currency="eur"
        )
        assert reserved == 2_000
        assert await check_ledger(world.database) == []

    async def test_dispute_voids_the_match(self, world: World) -> None:
        program_id = await make_program(world)
        payment = await give(world)
        await deliver(
            world.client,
            stripe_events.event(
                "charge.dispute.created", payment.dispute(dispute_id=stripe_events.new_id("dp"))
            ),
            world.settings.webhook_secret,
        )
        await process_all(world.database)

        match = await only_match(world.database, payment)
        assert (match.status, match.void_reason) == (MatchStatus.VOIDED, "disputed")
        assert (await program_row(world.database, program_id)).available_minor == 100_000

    async def test_refund_after_payout_claws_back_once(self, world: World) -> None:
        program_id = await make_program(world)
        payment = await give(world, amount_minor=2_000)
        match = await only_match(world.database, payment)
        approved = await world.client.post(
            f"/api/v1/admin/matches/{match.id}/approve", json={}, headers=world.reviewer.headers
        )
        assert approved.status_code == 200
        async with world.database.transaction() as session:
            await lifecycle.record_payout(session, match_id=match.id, at=utcnow())
        await refund(world, payment, amount_minor=2_000)
        await redeliver_all(world)

        match = await only_match(world.database, payment)
        assert (match.status, match.recovered_minor) == (MatchStatus.PAID, 2_000)
        program = await program_row(world.database, program_id)
        assert (program.paid_minor, program.recovered_minor, program.available_minor) == (
            2_000,
            2_000,
            100_000,
        )
        async with world.database.transaction() as session:
            clawbacks = await session.scalar(
                sa.select(sa.func.count()).where(ledger.LedgerTransfer.code == "match_clawed_back")
            )
        assert clawbacks == 1
        assert await check_ledger(world.database) == []


class TestReferralBonus:
    async def test_a_new_donor_brought_by_another_earns_the_bonus(self, world: World) -> None:
        program_id = await make_program(
            world, policy={"policy": "referral_bonus", "bonus_minor": 500, "per_referrer_cap_minor": 800}
        )
        referrer = await give(world, email="rita@example.org")
        link = await supporter_link(world.database, referrer, world.campaign)
        first = await give(world, email="newbie@example.org", referral_link_id=link)
        second = await give(world, email="newbie2@example.org", referral_link_id=link)

        assert await matches_for(world.database, referrer) == []
        assert (await only_match(world.database, first)).amount_minor == 500
        assert (await only_match(world.database, second)).amount_minor == 300  # referrer cap 800
        assert (await program_row(world.database, program_id)).reserved_minor == 800

    async def test_referring_yourself_earns_nothing(self, world: World) -> None:
        await make_program(world, policy={"policy": "referral_bonus", "bonus_minor": 500})
        referrer = await give(world, email="sam@example.org", fingerprint="sam-card")
        link = await supporter_link(world.database, referrer, world.campaign)
        alias = await give(
            world, email="sam.alias@example.org", fingerprint="sam-card", referral_link_id=link
        )
        assert await matches_for(world.database, alias) == []

    async def test_a_returning_donor_is_not_new(self, world: World) -> None:
        await make_program(world, policy={"policy": "referral_bonus", "bonus_bps": 5_000})
        referrer = await give(world, email="rita@example.org")
        await give(world, email="old@example.org")
        link = await supporter_link(world.database, referrer, world.campaign)
        again = await give(world, email="old@example.org", referral_link_id=link)
        assert await matches_for(world.database, again) == []


class TestEngagementTiers:
    async def test_ratio_steps_up_with_distinct_referred_donors(self, world: World) -> None:
        await make_program(
            world,
            policy={
                "policy": "engagement_tiers",
                "tiers": [
                    {"min_referred_donors": 0, "ratio_bps": 5_000},
                    {"min_referred_donors": 2, "ratio_bps": 20_000},
                ],
            },
        )
        seed = await give(world, amount_minor=1_000)
        link = await supporter_link(world.database, seed, world.campaign)
        await give(world, amount_minor=1_000, referral_link_id=link)
        await give(world, amount_minor=1_000, referral_link_id=link)
        later = await give(world, amount_minor=1_000)

        assert (await only_match(world.database, seed)).amount_minor == 500
        assert (await only_match(world.database, later)).amount_minor == 2_000


class TestChallengeUnlock:
    async def test_bonus_unlocks_once_at_the_donor_target(self, world: World) -> None:
        deadline = (utcnow() + timedelta(days=3)).isoformat()
        program_id = await make_program(
            world,
            policy={
                "policy": "challenge_unlock",
                "bonus_minor": 10_000,
                "target_donors": 3,
                "deadline": deadline,
            },
        )
        await give(world, email="a@example.org")
        await give(world, email="a+2@example.org")  # same donor: does not count twice
        await give(world, email="b@example.org")
        assert await live_total(world.database, program_id) == 0
        await give(world, email="c@example.org")
        await give(world, email="d@example.org")
        await redeliver_all(world)

        async with world.database.transaction() as session:
            found = (await session.scalars(sa.select(Match).where(Match.program_id == program_id))).all()
        assert [(m.donation_id, m.amount_minor) for m in found] == [(None, 10_000)]

    async def test_pro_rata_pays_the_reached_share_at_the_end(self, world: World) -> None:
        now = utcnow()
        program_id = await make_program(
            world,
            ends_at=(now + timedelta(hours=2)).isoformat(),
            policy={
                "policy": "challenge_unlock",
                "bonus_minor": 9_000,
                "target_minor": 9_000,
                "deadline": (now + timedelta(hours=1)).isoformat(),
                "mode": "pro_rata",
            },
        )
        await give(world, amount_minor=3_000)
        async with world.database.transaction() as session:
            program = await pool.lock_program(session, program_id)
            assert program is not None
            await rounds.close_program(session, program, now=now + timedelta(hours=3))

        assert await live_total(world.database, program_id) == 3_000
        program = await program_row(world.database, program_id)
        assert (program.status, program.returned_minor) == ("ended", 97_000)


class TestQuadraticRound:
    async def test_round_splits_the_whole_pool_and_publishes_its_hash(self, world: World) -> None:
        other = await clone_campaign(world.database, world.campaign)
        program_id = await make_program(world, budget_minor=10_000, policy={"policy": "quadratic_round"})
        for _ in range(3):
            await give(world, amount_minor=1_000)
        for _ in range(2):
            await give(world, amount_minor=2_000, campaign=other)
        lonely = await clone_campaign(world.database, world.campaign)
        await give(world, amount_minor=50_000, campaign=lonely)

        async with world.database.transaction() as session:
            program = await pool.lock_program(session, program_id)
            assert program is not None
            await rounds.close_program(session, program, now=utcnow())
        async with world.database.transaction() as session:
            found = {m.campaign_id: m.amount_minor for m in await session.scalars(sa.select(Match))}
            published = await session.get(RoundResultRecord, program_id)
        assert sum(found.values()) == 10_000
        assert lonely.id not in found  # one donor earns nothing, however large the gift
        assert found[world.campaign.id] > 0 and found[other.id] > 0
        assert published is not None and len(published.inputs_hash) == 64
        assert (await program_row(world.database, program_id)).returned_minor == 0


class TestLifecycle:
    async def test_hold_end_approves_quiet_matches_and_holds_flagged_ones(self, world: World) -> None:
        await make_program(world, review_threshold_minor=5_000, hold_days=0)
        quiet = await give(world, amount_minor=1_000)
        large = await give(world, amount_minor=6_000)
        async with world.database.transaction() as session:
            await lifecycle.release_due_matches(session, now=utcnow() + timedelta(seconds=1))

        assert (await only_match(world.database, quiet)).status is MatchStatus.APPROVED
        flagged = await only_match(world.database, large)
        assert flagged.status is MatchStatus.HELD_FOR_REVIEW
        assert "amount_above_threshold" in {r["code"] for r in flagged.risk_reasons}

    async def test_reviewer_approves_and_rejects_through_the_api(self, world: World) -> None:
        program_id = await make_program(world, review_threshold_minor=100, hold_days=0)
        one, two = await give(world), await give(world)
        async with world.database.transaction() as session:
            await lifecycle.release_due_matches(session, now=utcnow() + timedelta(seconds=1))
        first, second = await only_match(world.database, one), await only_match(world.database, two)

        listed = await world.client.get(
            "/api/v1/admin/matches", params={"status": "held_for_review"}, headers=world.reviewer.headers
        )
        assert {m["id"] for m in listed.json()["data"]} == {str(first.id), str(second.id)}
        approved = await world.client.post(
            f"/api/v1/admin/matches/{first.id}/approve",
            json={"note": "known donor"},
            headers=world.reviewer.headers,
        )
        rejected = await world.client.post(
            f"/api/v1/admin/matches/{second.id}/reject",
            json={"note": "looks like a ring"},
            headers=world.reviewer.headers,
        )
        # At the program's review threshold: the first approval is recorded, a second person decides.
        assert (approved.status_code, approved.json()["status"]) == (200, "held_for_review")
        second_reviewer = await insert_admin(world.database, role=AdminRole.REVIEWER)
        approved = await world.client.post(
            f"/api/v1/admin/matches/{first.id}/approve", json={}, headers=second_reviewer.headers
        )
        assert (approved.status_code, approved.json()["status"]) == (200, "approved")
        assert (rejected.status_code, rejected.json()["status"]) == (200, "voided")
        assert (await program_row(world.database, program_id)).reserved_minor == 2_500
        again = await world.client.post(
            f"/api/v1/admin/matches/{second.id}/approve", json={}, headers=world.reviewer.headers
        )
        assert (again.status_code, again.json()["error"]) == (409, "illegal_match_transition")
        async with world.database.transaction() as session:
            entries = await audit.list_entries(session, subject_type="match", subject_id=str(second.id))
        assert [e.action for e in entries][:2] == ["match.rejected", "match.held_for_review"]
        assert entries[0].note == "looks like a ring" and entries[0].actor_id == str(world.reviewer.id)

    async def test_reject_needs_a_note_and_a_reviewer(self, world: World) -> None:
        await make_program(world)
        match_payment = await give(world)
        match = await only_match(world.database, match_payment)
        no_note = await world.client.post(
            f"/api/v1/admin/matches/{match.id}/reject", json={}, headers=world.reviewer.headers
        )
        finance = await world.client.post(
            f"/api/v1/admin/matches/{match.id}/reject", json={"note": "x" * 10}, headers=world.finance.headers
        )
        assert no_note.status_code == 422
        assert (finance.status_code, finance.json()["error"]) == (
            403,
            "role_required",
        ) or finance.status_code == 403

    async def test_a_member_of_the_nonprofit_cannot_decide_its_matches(self, world: World) -> None:
        from service.auth.models import AdminRole
        from tests.builders import insert_admin

        await make_program(world)
        match = await only_match(world.database, await give(world))
        insider = await insert_admin(world.database, role=AdminRole.REVIEWER, email=await _owner_email(world))
        response = await world.client.post(
            f"/api/v1/admin/matches/{match.id}/approve", json={}, headers=insider.headers
        )
        assert (response.status_code, response.json()["error"]) == (403, "own_organisation")
        assert (await reload(world.database, match)).status is MatchStatus.PENDING


class TestPrograms:
    async def test_creation_funds_the_pool_from_the_funder(self, world: World) -> None:
        program_id = await make_program(world, funder_kind="sponsor", funder_name="Acme Foundation")
        async with world.database.transaction() as session:
            pool_balance = await ledger.balance(session, code=pool.pool_account(program_id), currency="eur")
            funder = await ledger.balance(session, code="funder:sponsor:acme foundation", currency="eur")
        assert (pool_balance, funder) == (100_000, -100_000)

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"budget_minor": 0}, "budget_minor"),
            ({"budget_minor": 10.5}, "budget_minor"),
            ({"policy": {"policy": "fixed_ratio", "ratio_bps": 1.5}}, "policy"),
            ({"policy": {"policy": "referral_bonus"}}, "policy"),
            (
                {
                    "policy": {
                        "policy": "engagement_tiers",
                        "tiers": [{"min_referred_donors": 3, "ratio_bps": 1}],
                    }
                },
                "policy",
            ),
            ({"currency": "xxx"}, "currency"),
            ({"starts_at": "2020-01-01T00:00:00+00:00"}, "starts_at"),
            ({"funder_kind": "sponsor"}, None),
        ],
    )
    async def test_bad_programs_are_refused_and_nothing_is_written(
        self, world: World, overrides: dict[str, object], field: str | None
    ) -> None:
        from tests.campaigns.matching.helpers import program_payload

        response = await world.client.post(
            "/api/v1/admin/matching-programs",
            json=program_payload(**overrides),
            headers=world.finance.headers,
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "validation_failed"
        async with world.database.transaction() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(MatchingProgram)) == 0

    async def test_only_finance_creates_programs(self, world: World) -> None:
        from tests.campaigns.matching.helpers import program_payload

        response = await world.client.post(
            "/api/v1/admin/matching-programs", json=program_payload(), headers=world.reviewer.headers
        )
        assert response.status_code == 403

    async def test_terms_are_frozen_once_started_but_not_before(self, world: World) -> None:
        started = await make_program(world)
        later = await make_program(world, starts_at=(utcnow() + timedelta(days=1)).isoformat(), name="later")
        frozen = await world.client.patch(
            f"/api/v1/admin/matching-programs/{started}",
            json={"per_donation_cap_minor": 1},
            headers=world.finance.headers,
        )
        renamed = await world.client.patch(
            f"/api/v1/admin/matching-programs/{started}",
            json={"name": "Renamed"},
            headers=world.finance.headers,
        )
        changed = await world.client.patch(
            f"/api/v1/admin/matching-programs/{later}",
            json={"per_donation_cap_minor": 1},
            headers=world.finance.headers,
        )
        assert (frozen.status_code, frozen.json()["error"]) == (409, "matching_program_started")
        assert (renamed.status_code, renamed.json()["name"]) == (200, "Renamed")
        assert (changed.status_code, changed.json()["per_donation_cap_minor"]) == (200, 1)

    async def test_ending_returns_unspent_budget_and_later_voids_follow(self, world: World) -> None:
        program_id = await make_program(world)
        payment = await give(world, amount_minor=4_000)
        ended = await world.client.post(
            f"/api/v1/admin/matching-programs/{program_id}/end", headers=world.finance.headers
        )
        assert ended.json()["pool"] == {
            "budget_minor": 100_000,
            "available_minor": 0,
            "held_minor": 0,
            "reserved_minor": 4_000,
            "paid_minor": 0,
            "recovered_minor": 0,
            "returned_minor": 96_000,
        }
        await deliver(
            world.client,
            stripe_events.event(
                "charge.dispute.created", payment.dispute(dispute_id=stripe_events.new_id("dp"))
            ),
            world.settings.webhook_secret,
        )
        await process_all(world.database)
        await rounds.close_due_programs(world.database)

        program = await program_row(world.database, program_id)
        assert (program.reserved_minor, program.returned_minor, program.available_minor) == (0, 100_000, 0)
        async with world.database.transaction() as session:
            funder = await ledger.balance(session, code="funder:platform", currency="eur")
        assert funder == 0
        assert await check_ledger(world.database) == []


class TestLedgerCheck:
    async def test_a_counter_out_of_step_with_the_ledger_is_reported(self, world: World) -> None:
        program_id = await make_program(world)
        await give(world, amount_minor=1_000)
        assert await check_ledger(world.database) == []
        async with world.database.transaction() as session:
            await session.execute(
                sa.update(MatchingProgram).where(MatchingProgram.id == program_id).values(reserved_minor=900)
            )

        problems = await check_ledger(world.database)

        assert any("open reservations in the ledger 1000 != 900" in p for p in problems), problems
        assert any("unpaid matches 1000 != 900" in p for p in problems), problems

    async def test_a_match_row_out_of_step_is_reported(self, world: World) -> None:
        await make_program(world)
        match = await only_match(world.database, await give(world, amount_minor=1_000))
        async with world.database.transaction() as session:
            await session.execute(sa.update(Match).where(Match.id == match.id).values(amount_minor=999))

        problems = await check_ledger(world.database)

        assert any("unpaid matches 999 != 1000" in p for p in problems), problems

    async def test_counters_out_of_step_with_the_pools_flagged_balance_are_reported(
        self, world: World
    ) -> None:
        program_id = await make_program(world, budget_minor=5_000)
        await give(world, amount_minor=1_000)
        async with world.database.transaction() as session:
            account = await session.scalar(
                sa.select(ledger.LedgerAccount.id).where(
                    ledger.LedgerAccount.code == pool.pool_account(program_id)
                )
            )
            await session.execute(
                sa.update(ledger.LedgerAccountBalance)
                .where(ledger.LedgerAccountBalance.account_id == account)
                .values(debits_pending_minor=ledger.LedgerAccountBalance.debits_pending_minor + 1)
            )

        problems = await check_ledger(world.database)

        assert any("pool pending debits in the ledger 1001 != counters 1000" in p for p in problems), problems
        assert any("pool available in the ledger 3999 != counters 4000" in p for p in problems), problems


class TestPoolConstraint:
    async def test_the_ledger_refuses_a_reservation_past_the_pool(self, world: World) -> None:
        program_id = await make_program(world, budget_minor=1_000)
        match = await only_match(world.database, await give(world, amount_minor=600))

        async def overdraw() -> None:
            async with world.database.transaction() as session:
                program = await pool.lock_program(session, program_id)
                assert program is not None
                # Bypass the engine's own budget check: the ledger alone must refuse.
                await pool.resize(session, program, match, amount_minor=1_001)

        with pytest.raises(ledger.LedgerLimitExceeded):
            await overdraw()

        assert await check_ledger(world.database) == []

    async def test_the_database_refuses_an_overspent_pool(self, world: World) -> None:
        from sqlalchemy.exc import IntegrityError

        program_id = await make_program(world, budget_minor=1_000)
        with pytest.raises(IntegrityError):
            async with world.database.transaction() as session:
                await session.execute(
                    sa.update(MatchingProgram)
                    .where(MatchingProgram.id == program_id)
                    .values(reserved_minor=1_001)
                )

    async def test_a_match_id_is_not_reserved_twice(self, world: World) -> None:
        from sqlalchemy.exc import IntegrityError

        await make_program(world)
        match = await only_match(world.database, await give(world))
        with pytest.raises(IntegrityError):
            async with world.database.transaction() as session:
                session.add(
                    Match(
                        id=uuid.uuid4(),
                        key=f"other:{uuid.uuid4()}",
                        program_id=match.program_id,
                        donation_id=match.donation_id,
                        campaign_id=match.campaign_id,
                        nonprofit_id=match.nonprofit_id,
                        currency="eur",
                        amount_minor=1,
                        original_minor=1,
                        hold_until=utcnow(),
                    )
                )
