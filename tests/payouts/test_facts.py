"""Match, payout and campaign facts through the real paths (the admin and nonprofit APIs, the
payout outbox against the Stripe sandbox, its transfer events relayed signed, several times and
reversed): one event per fact, in the shape the API returns, for the right nonprofit."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from campaigns import facts
from campaigns.integrations.models import IntegrationEvent
from campaigns.matching import lifecycle
from campaigns.matching.models import MatchStatus
from service.db import Database, utcnow
from tests.builders import insert_admin, live_campaign, sign_up, verify
from tests.campaigns.matching.helpers import give, make_program, only_match, refund
from tests.payouts.helpers import PayoutWorld, connect_account, relay, run_outbox


def later(days: int = 8) -> datetime:
    return utcnow() + timedelta(days=days)


async def events_of(database: Database, *types: str) -> list[IntegrationEvent]:
    async with database.transaction() as session:
        rows = await session.scalars(
            sa.select(IntegrationEvent)
            .where(IntegrationEvent.type.in_(types))
            .order_by(IntegrationEvent.created_at, IntegrationEvent.key)
        )
        return list(rows)


def objects(rows: list[IntegrationEvent]) -> list[dict[str, Any]]:
    return [row.envelope["data"]["object"] for row in rows]


class TestMatchAndPayoutFacts:
    async def test_an_approved_match_paid_out_is_approved_paid_and_paid_out_once_each(
        self, pw: PayoutWorld
    ) -> None:
        await make_program(pw.world)
        await connect_account(pw)
        payment = await give(pw.world, amount_minor=2_000)
        match = await only_match(pw.database, payment)
        approve = f"/api/v1/admin/matches/{match.id}/approve"
        assert (await pw.world.client.post(approve, json={}, headers=pw.world.reviewer.headers)).is_success
        # Approving again is refused by the state machine: nothing more is announced.
        assert (
            await pw.world.client.post(approve, json={}, headers=pw.world.reviewer.headers)
        ).status_code == 409

        await run_outbox(pw, now=later())
        await relay(pw, copies=3, reverse=True)
        await run_outbox(pw, now=later(9))
        await relay(pw, copies=2)

        assert (await only_match(pw.database, payment)).status is MatchStatus.PAID
        rows = await events_of(pw.database, facts.MATCH_APPROVED, facts.MATCH_PAID, facts.PAYOUT_PAID)
        assert Counter(row.type for row in rows) == {
            facts.MATCH_APPROVED: 1,
            facts.MATCH_PAID: 1,
            facts.PAYOUT_PAID: 1,
        }
        by_type = {row.type: row for row in rows}
        assert by_type[facts.MATCH_APPROVED].key == f"match:{match.id}:approved:r{match.revision}:a1"
        assert by_type[facts.MATCH_PAID].key == f"match:{match.id}:paid"
        for row in rows:
            assert row.nonprofit_id == uuid.UUID(pw.org.id)
        # data.object is what the nonprofit's own API returns for the same objects.
        own_matches = (await pw.world.client.get("/api/v1/matches", headers=pw.org.headers)).json()["data"]
        assert by_type[facts.MATCH_PAID].envelope["data"]["object"] == own_matches[0]
        own_payouts = (await pw.world.client.get("/api/v1/payouts", headers=pw.org.headers)).json()["data"]
        assert by_type[facts.PAYOUT_PAID].envelope["data"]["object"] == own_payouts[0]
        assert own_payouts[0]["status"] == "paid"

    async def test_reject_appeal_approve_and_void_each_announce_once(self, pw: PayoutWorld) -> None:
        await make_program(pw.world)
        payment = await give(pw.world, amount_minor=3_000)
        match = await only_match(pw.database, payment)
        client, reviewer = pw.world.client, pw.world.reviewer.headers
        reject = f"/api/v1/admin/matches/{match.id}/reject"
        assert (await client.post(reject, json={"note": "looks like a ring"}, headers=reviewer)).is_success
        assert (await client.post(reject, json={"note": "again"}, headers=reviewer)).status_code == 409
        appeal = await client.post(
            f"/api/v1/matches/{match.id}/appeal", json={"message": "Real donors."}, headers=pw.org.headers
        )
        assert appeal.status_code == 200, appeal.text
        approve = f"/api/v1/admin/matches/{match.id}/approve"
        assert (await client.post(approve, json={}, headers=reviewer)).is_success
        await refund(pw.world, payment, amount_minor=3_000)
        await refund(pw.world, payment, amount_minor=3_000)  # Stripe redelivers: nothing new

        rows = await events_of(
            pw.database, facts.MATCH_APPROVED, facts.MATCH_REJECTED, facts.MATCH_VOIDED, facts.MATCH_PAID
        )
        assert [row.type for row in rows] == [facts.MATCH_REJECTED, facts.MATCH_APPROVED, facts.MATCH_VOIDED]
        assert [o["status"] for o in objects(rows)] == ["voided", "approved", "voided"]
        assert objects(rows)[0]["can_appeal"] is True
        assert len({row.key for row in rows}) == 3
        assert {row.nonprofit_id for row in rows} == {uuid.UUID(pw.org.id)}

    async def test_a_hold_that_ends_clean_approves_and_announces_once(self, pw: PayoutWorld) -> None:
        await make_program(pw.world)
        payment = await give(pw.world, amount_minor=1_500)
        for _ in range(2):
            async with pw.database.transaction() as session:
                await lifecycle.release_due_matches(session, now=later())

        match = await only_match(pw.database, payment)
        assert match.status is MatchStatus.APPROVED
        (row,) = await events_of(pw.database, facts.MATCH_APPROVED)
        assert row.key == f"match:{match.id}:approved:r{match.revision}:a0"


class TestCampaignFacts:
    async def test_every_status_move_is_one_event_and_a_refused_move_none(self, pw: PayoutWorld) -> None:
        client, org, campaign_id = pw.world.client, pw.org, pw.world.campaign.id
        for action, status in (("pause", 200), ("resume", 200), ("resume", 409), ("pause", 200)):
            response = await client.post(f"/api/v1/campaigns/{campaign_id}/{action}", headers=org.headers)
            assert response.status_code == status, response.text

        rows = [
            row
            for row in await events_of(pw.database, facts.CAMPAIGN_STATUS_CHANGED)
            if row.subject_id == campaign_id
        ]
        # submitted, approved (the world's set-up), paused, resumed, paused
        assert [o["status"] for o in objects(rows)] == ["in_review", "live", "paused", "live", "paused"]
        assert [row.key for row in rows] == [f"campaign:{campaign_id}:status:{n}" for n in range(1, 6)]
        current = (await client.get(f"/api/v1/campaigns/{campaign_id}", headers=org.headers)).json()
        assert objects(rows)[-1] == current
        assert current["public_url"].startswith(pw.world.settings.public_base_url + "/c/")

    async def test_another_nonprofits_campaign_is_announced_to_it_alone(self, pw: PayoutWorld) -> None:
        other = await sign_up(pw.world.client)
        admin = await insert_admin(pw.database)
        await verify(pw.world.client, admin, other)
        theirs = await live_campaign(pw.world.client, other, admin)

        rows = await events_of(pw.database, facts.CAMPAIGN_STATUS_CHANGED)
        mine = {row.subject_id for row in rows if row.nonprofit_id == uuid.UUID(pw.org.id)}
        their_rows = [row for row in rows if row.nonprofit_id == uuid.UUID(other.id)]
        assert {row.subject_id for row in their_rows} == {uuid.UUID(theirs["id"])}
        assert uuid.UUID(theirs["id"]) not in mine
        assert {o["nonprofit_id"] for o in objects(their_rows)} == {other.id}


class TestDonationShape:
    async def test_the_donation_event_carries_what_the_donations_api_returns(self, pw: PayoutWorld) -> None:
        payment = await give(pw.world, amount_minor=4_200)
        await refund(pw.world, payment, amount_minor=1_000)

        rows = [
            row
            for row in await events_of(pw.database, facts.DONATION_CONFIRMED, facts.DONATION_REFUNDED)
            if str(row.subject_id) == payment.donation_id
        ]
        assert [row.type for row in rows] == [facts.DONATION_CONFIRMED, facts.DONATION_REFUNDED]
        one = await pw.world.client.get(f"/api/v1/donations/{payment.donation_id}", headers=pw.org.headers)
        assert one.status_code == 200
        assert rows[-1].envelope["data"]["object"] == one.json()
        assert (one.json()["refunded_minor"], one.json()["status"]) == (1_000, "partially_refunded")
        listed = await pw.world.client.get(
            "/api/v1/donations", params={"status": "partially_refunded"}, headers=pw.org.headers
        )
        assert [d["id"] for d in listed.json()["data"]] == [payment.donation_id]
