"""Matches donors can see: matched totals on the campaign, the public summary API, the
challenge's left-to-unlock, and each match of a gift on the thank-you status.

Gifts are real: pending donations confirmed by signed Stripe webhooks through the processor,
matches made by the engine, moved by the review API, the payout record and refunds.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from campaigns.campaign.models import Campaign
from campaigns.matching import lifecycle, totals
from campaigns.matching.models import MatchStatus
from service.app import check_ledger
from service.auth.models import AdminRole
from service.db import Database, utcnow
from service.settings import Settings
from service.web.tokens import thanks_token
from tests.builders import insert_admin
from tests.campaigns.giving.helpers import live
from tests.campaigns.giving.stripe_double import StripeDouble
from tests.campaigns.giving.test_thanks_and_embed import confirm, started, status_path
from tests.campaigns.matching.helpers import (
    World,
    give,
    make_program,
    make_world,
    only_match,
    program_payload,
    refund,
)
from tests.webhooks import stripe_events


@pytest.fixture
async def world(client: httpx.AsyncClient, database: Database, settings: Settings) -> World:
    return await make_world(client, database, settings)


async def campaign_row(world: World) -> Campaign:
    async with world.database.transaction() as session:
        found = await session.get(Campaign, world.campaign.id)
    assert found is not None
    return found


async def summary(world: World, **headers: str) -> httpx.Response:
    slug = (await campaign_row(world)).slug
    return await world.client.get(f"/api/v1/public/campaigns/{slug}", headers=headers)


async def status_of(world: World, payment: stripe_events.Payment) -> dict[str, Any]:
    slug = (await campaign_row(world)).slug
    donation_id = uuid.UUID(payment.donation_id)
    token = thanks_token(world.settings.secret_key, donation_id)
    response = await world.client.get(
        f"/c/{slug}/thanks/status", params={"donation": str(donation_id), "t": token}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def fresh_matched_total(world: World) -> int:
    async with world.database.transaction() as session:
        return await totals.matched_total(session, world.campaign.id)


class TestMatchedTotals:
    async def test_matches_in_each_status_count_as_the_donor_is_told(self, world: World) -> None:
        await make_program(world, hold_days=0)
        approved, rejected, refunded, paid = (
            await give(world, amount_minor=1_000),
            await give(world, amount_minor=2_000),
            await give(world, amount_minor=3_000),
            await give(world, amount_minor=1_500),
        )
        # Four pending matches: promised from the pool, shown as matched.
        first = (await summary(world)).json()
        assert (first["raised_minor"], first["matched_minor"], first["total_minor"]) == (7_500, 7_500, 15_000)
        assert first["donors_count"] == 4
        # What the page's script shows when it polls instead of listening (live.js).
        assert (first["raised_text"], first["matched_text"], first["total_text"], first["donors_text"]) == (
            "€75.00",
            "€75.00",
            "€150.00",
            "4 donors",
        )
        assert first["percent_text"] == f"{first['percent']}%"
        assert (await status_of(world, approved))["matches"] == [
            {
                "program_name": "Winter match",
                "amount_minor": 1_000,
                "currency": "eur",
                "amount_text": "€10.00",
                "status": "pending",
                "status_text": "Matched: waiting for the usual checks",
            }
        ]

        for payment in (approved, paid):
            match = await only_match(world.database, payment)
            response = await world.client.post(
                f"/api/v1/admin/matches/{match.id}/approve", json={}, headers=world.reviewer.headers
            )
            assert (response.status_code, response.json()["status"]) == (200, "approved"), response.text
        match = await only_match(world.database, rejected)
        response = await world.client.post(
            f"/api/v1/admin/matches/{match.id}/reject", json={"note": "ring"}, headers=world.reviewer.headers
        )
        assert response.status_code == 200, response.text
        # The rejection alone (no donation changed) takes its match out of the total.
        assert (await summary(world)).json()["matched_minor"] == 7_500 - 2_000
        async with world.database.transaction() as session:
            await lifecycle.record_payout(
                session, match_id=(await only_match(world.database, paid)).id, at=utcnow()
            )
        await refund(world, refunded, amount_minor=3_000)

        body = (await summary(world)).json()
        # Donors' money less the refund; matched: the approved and the paid match only.
        assert (body["raised_minor"], body["matched_minor"], body["total_minor"]) == (4_500, 2_500, 7_000)
        assert body["percent"] == 7_000 * 100 // body["goal_minor"]
        assert (await campaign_row(world)).matched_minor == await fresh_matched_total(world) == 2_500
        texts = {
            name: [(m["status"], m["status_text"]) for m in (await status_of(world, p))["matches"]]
            for name, p in (
                ("approved", approved),
                ("rejected", rejected),
                ("refunded", refunded),
                ("paid", paid),
            )
        }
        assert texts == {
            "approved": [("approved", "Matched: approved")],
            "rejected": [("voided", "Not matched because our team rejected it after a check")],
            "refunded": [("voided", "Not matched because the gift was refunded")],
            "paid": [("paid", "Matched: paid to the organisation")],
        }

    async def test_a_held_match_is_matched_and_says_it_waits_for_a_check(self, world: World) -> None:
        await make_program(world, hold_days=0, review_threshold_minor=500)
        payment = await give(world, amount_minor=1_000)
        async with world.database.transaction() as session:
            await lifecycle.release_due_matches(session, now=utcnow() + timedelta(seconds=1))

        assert (await only_match(world.database, payment)).status is MatchStatus.HELD_FOR_REVIEW
        [line] = (await status_of(world, payment))["matches"]
        assert (line["status"], line["status_text"]) == (
            "held_for_review",
            "Matched: held for a check by our team",
        )
        assert (await summary(world)).json()["matched_minor"] == 1_000

    async def test_a_paid_match_clawed_back_counts_nothing(self, world: World) -> None:
        await make_program(world)
        payment = await give(world, amount_minor=2_000)
        match = await only_match(world.database, payment)
        await world.client.post(
            f"/api/v1/admin/matches/{match.id}/approve", json={}, headers=world.reviewer.headers
        )
        async with world.database.transaction() as session:
            await lifecycle.record_payout(session, match_id=match.id, at=utcnow())
        assert (await campaign_row(world)).matched_minor == 2_000
        await refund(world, payment, amount_minor=2_000)

        assert (await campaign_row(world)).matched_minor == 0
        assert (await summary(world)).json()["matched_minor"] == 0

    async def test_ledger_check_compares_the_stored_total_with_the_matches(self, world: World) -> None:
        await make_program(world)
        await give(world, amount_minor=2_000)
        assert await check_ledger(world.database) == []

        async with world.database.transaction() as session:
            await session.execute(
                sa.update(Campaign).where(Campaign.id == world.campaign.id).values(matched_minor=1)
            )

        assert await check_ledger(world.database) == [
            f"campaign {world.campaign.id}: stored matched total 1 but its matches count 2000"
        ]


class TestChallenge:
    async def test_page_and_api_say_what_is_left_to_unlock_then_unlocked(self, world: World) -> None:
        await make_program(
            world,
            name="Friday challenge",
            policy={
                "policy": "challenge_unlock",
                "bonus_minor": 50_000,
                "target_donors": 3,
                "deadline": (utcnow() + timedelta(days=3)).isoformat(),
            },
        )
        await give(world, email="a@example.org")
        await give(world, email="a+again@example.org")  # the same donor: counted once, as the engine does

        [challenge] = (await summary(world)).json()["challenges"]
        assert (challenge["remaining"], challenge["unlocked"]) == (2, False)
        assert challenge["text"] == "2 more donors unlock €500.00"
        slug = (await campaign_row(world)).slug
        assert "2 more donors unlock €500.00" in (await world.client.get(f"/c/{slug}")).text

        await give(world, email="b@example.org")
        await give(world, email="c@example.org")

        body = (await summary(world)).json()
        [challenge] = body["challenges"]
        assert (challenge["remaining"], challenge["unlocked"]) == (0, True)
        assert challenge["text"] == "Unlocked! Friday challenge adds €500.00."
        assert body["matched_minor"] == 50_000
        assert "Unlocked! Friday challenge adds €500.00." in (await world.client.get(f"/c/{slug}")).text

    async def test_a_target_met_when_the_pool_cannot_pay_unlocks_nothing(self, world: World) -> None:
        await make_program(
            world,
            budget_minor=10_000,
            allow_partial=False,
            policy={
                "policy": "challenge_unlock",
                "bonus_minor": 50_000,
                "target_donors": 1,
                "deadline": (utcnow() + timedelta(days=3)).isoformat(),
            },
        )
        await give(world)

        body = (await summary(world)).json()
        [challenge] = body["challenges"]
        assert (challenge["remaining"], challenge["unlocked"], challenge["text"]) == (0, False, None)
        assert body["matched_minor"] == 0

    async def test_an_amount_target_says_how_much_more(self, world: World) -> None:
        await make_program(
            world,
            policy={
                "policy": "challenge_unlock",
                "bonus_minor": 50_000,
                "target_minor": 100_000,
                "deadline": (utcnow() + timedelta(days=3)).isoformat(),
            },
        )
        await give(world, amount_minor=70_000)

        [challenge] = (await summary(world)).json()["challenges"]
        assert challenge["text"] == "€300.00 more unlocks €500.00"


class TestSummaryApi:
    async def test_public_cacheable_with_etag_and_304(self, world: World) -> None:
        await make_program(world, per_donation_cap_minor=5_000)
        await give(world, amount_minor=2_500)

        first = await summary(world)
        assert first.status_code == 200
        assert first.headers["cache-control"] == "public, max-age=15, stale-while-revalidate=60"
        assert first.headers["access-control-allow-origin"] == "*"
        etag = first.headers["etag"]
        assert etag.startswith('"') and not etag.startswith("W/")
        body = first.json()
        row = await campaign_row(world)
        assert body["slug"] == row.slug and body["url"].endswith(f"/c/{row.slug}")
        assert body["organisation"]["verified"] is True
        assert body["status"] == "live"
        [offer] = body["match_offers"]
        assert (offer["ratio_text"], offer["per_gift_cap_minor"], offer["available_minor"]) == (
            "1:1",
            5_000,
            100_000 - 2_500,
        )

        again = await summary(world, **{"If-None-Match": etag})
        assert (again.status_code, again.content) == (304, b"")
        assert again.headers["etag"] == etag
        other = await summary(world, **{"If-None-Match": '"not-this-one"'})
        assert other.status_code == 200

        await give(world, amount_minor=1_000)
        changed = await summary(world, **{"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag

    async def test_unknown_or_unpublished_campaign_is_a_json_404(self, world: World) -> None:
        missing = await world.client.get("/api/v1/public/campaigns/no-such-campaign")
        assert missing.status_code == 404
        assert set(missing.json()) >= {"error", "detail"}
        assert missing.headers["access-control-allow-origin"] == "*"

        async with world.database.transaction() as session:
            await session.execute(
                sa.update(Campaign).where(Campaign.id == world.campaign.id).values(status="draft")
            )
        assert (await summary(world)).status_code == 404

    async def test_is_in_the_openapi_document_without_auth(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/api/v1/openapi.json")).json()
        operation = document["paths"]["/api/v1/public/campaigns/{slug}"]["get"]
        assert "security" not in operation or operation["security"] == []
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("CampaignSummaryOut")


class TestThankYouWhileTheMatchIsRecorded:
    async def test_status_says_a_quoted_match_is_still_coming(
        self, client: httpx.AsyncClient, database: Database, stripe_double: StripeDouble
    ) -> None:
        finance = await insert_admin(database, role=AdminRole.FINANCE)
        response = await client.post(
            "/api/v1/admin/matching-programs", json=program_payload(), headers=finance.headers
        )
        assert response.status_code == 201, response.text
        flow = await started(client, database, stripe_double)
        # Stripe confirmed the payment; the processor has not made the match from the quote yet.
        await confirm(database, flow["donation_id"])

        status = (await client.get(status_path(flow["success"]))).json()
        page = (await client.get(flow["success"])).text

        assert (status["state"], status["matches"], status["awaiting_matches"]) == ("confirmed", [], True)
        assert 'data-awaiting="true"' in page and 'id="match-waiting"' in page


class TestDaysLeft:
    async def test_page_and_api_count_the_days_to_the_end(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        ends_at = utcnow() + timedelta(days=3, hours=5)
        campaign = await live(client, database, ends_at=ends_at.isoformat())

        page = (await client.get(f"/c/{campaign['slug']}")).text
        body = (await client.get(f"/api/v1/public/campaigns/{campaign['slug']}")).json()

        assert '<strong id="days-left">3 days left</strong>' in page
        assert body["days_left"] == "3 days left"
