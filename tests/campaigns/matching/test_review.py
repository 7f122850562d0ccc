"""People decide: two-person approval, own-organisation refusal, bulk approval of low-risk
matches, the nonprofit's one appeal, and risk signals an admin can tune."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from campaigns.matching import lifecycle
from campaigns.matching.models import Match, MatchApproval, MatchStatus
from campaigns.nonprofits.models import Member
from service import audit
from service.auth.models import AdminRole
from service.auth.secrets import hash_password
from service.db import Database, utcnow
from service.settings import Settings
from tests.builders import AdminUser, Org, insert_admin, sign_up
from tests.campaigns.dashboard.helpers import csrf_token_in, field_error, log_in
from tests.campaigns.matching.helpers import (
    World,
    give,
    make_program,
    make_world_with_org,
    only_match,
    program_row,
    reload,
)
from webhooks.commands import check_ledger


@pytest.fixture
async def team(client: httpx.AsyncClient, database: Database, settings: Settings) -> tuple[World, Org]:
    return await make_world_with_org(client, database, settings)


async def held_match(world: World, *, amount_minor: int = 2_500) -> Match:
    payment = await give(world, amount_minor=amount_minor)
    async with world.database.transaction() as session:
        await lifecycle.release_due_matches(session, now=utcnow() + timedelta(seconds=1))
    return await only_match(world.database, payment)


async def approve(world: World, admin: AdminUser, match_id: uuid.UUID) -> httpx.Response:
    return await world.client.post(
        f"/api/v1/admin/matches/{match_id}/approve", json={}, headers=admin.headers
    )


async def reject(world: World, match_id: uuid.UUID, note: str = "a ring of fresh accounts") -> httpx.Response:
    return await world.client.post(
        f"/api/v1/admin/matches/{match_id}/reject", json={"note": note}, headers=world.reviewer.headers
    )


async def actions(database: Database, match_id: uuid.UUID) -> list[str]:
    async with database.transaction() as session:
        entries = await audit.list_entries(session, subject_type="match", subject_id=str(match_id))
    return [e.action for e in reversed(entries)]


class TestTwoPersonApproval:
    async def test_a_large_match_needs_two_different_admins(self, team: tuple[World, Org]) -> None:
        world, _ = team
        await make_program(world, review_threshold_minor=2_000, hold_days=0)
        match = await held_match(world, amount_minor=2_500)
        assert match.status is MatchStatus.HELD_FOR_REVIEW

        first = await approve(world, world.reviewer, match.id)
        twice = await approve(world, world.reviewer, match.id)
        second_admin = await insert_admin(world.database, role=AdminRole.SUPERADMIN)
        second = await approve(world, second_admin, match.id)

        assert (first.status_code, first.json()["status"]) == (200, "held_for_review")
        assert (twice.status_code, twice.json()["error"]) == (409, "already_approved")
        assert (second.status_code, second.json()["status"]) == (200, "approved")
        assert (await actions(world.database, match.id))[-2:] == ["match.approval_recorded", "match.approved"]

    async def test_the_same_admin_racing_themselves_counts_once(
        self, team: tuple[World, Org], db_url: str
    ) -> None:
        world, _ = team
        await make_program(world, review_threshold_minor=2_000, hold_days=0)
        match = await held_match(world, amount_minor=2_500)

        results = await asyncio.gather(*(approve(world, world.reviewer, match.id) for _ in range(4)))

        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409, 409, 409]
        async with world.database.transaction() as session:
            rows = (
                await session.scalars(sa.select(MatchApproval).where(MatchApproval.match_id == match.id))
            ).all()
            status = await session.scalar(sa.select(Match.status).where(Match.id == match.id))
        assert len(rows) == 1 and status is MatchStatus.HELD_FOR_REVIEW

    async def test_below_the_threshold_one_approval_is_enough(self, team: tuple[World, Org]) -> None:
        world, _ = team
        await make_program(world, review_threshold_minor=10_000, hold_days=0)
        match = await held_match(world, amount_minor=2_500)
        async with world.database.transaction() as session:
            await session.execute(
                sa.update(Match).where(Match.id == match.id).values(status=MatchStatus.HELD_FOR_REVIEW)
            )

        response = await approve(world, world.reviewer, match.id)

        assert response.json()["status"] == "approved"

    async def test_a_large_match_is_never_auto_approved_after_its_hold(self, team: tuple[World, Org]) -> None:
        world, _ = team
        superadmin = await insert_admin(world.database, role=AdminRole.SUPERADMIN)
        # Even with the amount signal switched off, the review threshold still asks for people.
        off = await world.client.patch(
            "/api/v1/admin/risk-signals/amount_above_threshold",
            json={"weight": 0, "enabled": False},
            headers=superadmin.headers,
        )
        assert off.status_code == 200, off.text
        await make_program(world, review_threshold_minor=2_000, hold_days=0)

        match = await held_match(world, amount_minor=2_500)

        assert match.status is MatchStatus.HELD_FOR_REVIEW
        assert "amount_above_threshold" not in {r["code"] for r in match.risk_reasons}


class TestExactlyAtTheThreshold:
    """`review_threshold_minor` is inclusive: a match of exactly that amount is a large match."""

    async def switch_amount_signal_off(self, world: World) -> None:
        # So that only the two-person rule, not the signal's weight, stands between the match
        # and a single approval (a superadmin may switch the signal off).
        superadmin = await insert_admin(world.database, role=AdminRole.SUPERADMIN)
        off = await world.client.patch(
            "/api/v1/admin/risk-signals/amount_above_threshold",
            json={"weight": 0, "enabled": False},
            headers=superadmin.headers,
        )
        assert off.status_code == 200, off.text

    async def test_one_approval_is_not_enough(self, team: tuple[World, Org]) -> None:
        world, _ = team
        await make_program(world, review_threshold_minor=2_000, hold_days=0)
        match = await held_match(world, amount_minor=2_000)
        assert (match.amount_minor, match.status) == (2_000, MatchStatus.HELD_FOR_REVIEW)

        first = await approve(world, world.reviewer, match.id)
        second_admin = await insert_admin(world.database, role=AdminRole.SUPERADMIN)
        second = await approve(world, second_admin, match.id)

        assert (first.status_code, first.json()["status"]) == (200, "held_for_review")
        assert (second.status_code, second.json()["status"]) == (200, "approved")

    @pytest.mark.parametrize(
        ("amount_minor", "after_hold"), [(2_000, "held_for_review"), (1_999, "approved")]
    )
    async def test_the_hold_ends_in_review_from_the_threshold_up(
        self, team: tuple[World, Org], amount_minor: int, after_hold: str
    ) -> None:
        world, _ = team
        await self.switch_amount_signal_off(world)
        await make_program(world, review_threshold_minor=2_000, hold_days=0)

        match = await held_match(world, amount_minor=amount_minor)

        assert (match.amount_minor, match.status.value) == (amount_minor, after_hold)

    @pytest.mark.parametrize("signal", ["on", "off"])
    async def test_bulk_approval_leaves_it_for_two_people(self, team: tuple[World, Org], signal: str) -> None:
        world, _ = team
        if signal == "off":
            await self.switch_amount_signal_off(world)
        await make_program(world, review_threshold_minor=2_000, hold_days=30)
        at = await only_match(world.database, await give(world, amount_minor=2_000))
        below = await only_match(world.database, await give(world, amount_minor=1_999))

        response = await world.client.post(
            "/api/v1/admin/matches/bulk-approve",
            json={"match_ids": [str(at.id), str(below.id)]},
            headers=world.reviewer.headers,
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["approved"] == [str(below.id)]
        (skipped,) = body["skipped"]
        assert skipped["match_id"] == str(at.id) and "two admins" in skipped["reason"]
        assert (await reload(world.database, at)).status is MatchStatus.PENDING
        assert (await reload(world.database, below)).status is MatchStatus.APPROVED


class TestOwnOrganisation:
    async def test_an_admin_who_is_a_member_cannot_decide(self, team: tuple[World, Org]) -> None:
        world, org = team
        await make_program(world, hold_days=0, review_threshold_minor=2_000)
        match = await held_match(world)
        insider = await insert_admin(world.database, role=AdminRole.SUPERADMIN, email="insider@example.org")
        async with world.database.transaction() as session:
            session.add(
                Member(
                    nonprofit_id=uuid.UUID(org.id),
                    email="insider@example.org",
                    role="editor",
                    password_hash=hash_password("long enough password"),
                )
            )

        approved = await approve(world, insider, match.id)
        rejected = await world.client.post(
            f"/api/v1/admin/matches/{match.id}/reject", json={"note": "mine"}, headers=insider.headers
        )
        bulk = await world.client.post(
            "/api/v1/admin/matches/bulk-approve", json={"match_ids": [str(match.id)]}, headers=insider.headers
        )

        assert (approved.status_code, approved.json()["error"]) == (403, "own_organisation")
        assert (rejected.status_code, rejected.json()["error"]) == (403, "own_organisation")
        assert bulk.json()["approved"] == []
        assert "belong" in bulk.json()["skipped"][0]["reason"]
        assert (await reload(world.database, match)).status is MatchStatus.HELD_FOR_REVIEW


class TestBulkApproval:
    async def test_only_the_low_risk_ones_are_approved(self, team: tuple[World, Org]) -> None:
        world, _ = team
        await make_program(world, review_threshold_minor=5_000, hold_days=30)
        low = await only_match(world.database, await give(world, amount_minor=1_000))
        strong = await only_match(world.database, await give(world, amount_minor=1_000))
        large = await only_match(world.database, await give(world, amount_minor=6_000))
        async with world.database.transaction() as session:
            await session.execute(
                sa.update(Match)
                .where(Match.id == strong.id)
                .values(risk_reasons=[{"code": "card_velocity", "weight": 100, "sentence": "Same card."}])
            )
        unknown = uuid.uuid4()

        response = await world.client.post(
            "/api/v1/admin/matches/bulk-approve",
            json={"match_ids": [str(low.id), str(strong.id), str(large.id), str(unknown)], "note": "batch"},
            headers=world.reviewer.headers,
        )

        body = response.json()
        assert response.status_code == 200
        assert body["approved"] == [str(low.id)]
        skipped = {s["match_id"]: s["reason"] for s in body["skipped"]}
        assert set(skipped) == {str(strong.id), str(large.id), str(unknown)}
        assert "two admins" in skipped[str(large.id)]
        assert "too strong" in skipped[str(strong.id)]
        assert (await actions(world.database, low.id))[-1] == "match.approved"


class TestAppeal:
    async def test_a_rejection_can_be_appealed_once_and_returns_to_review(
        self, team: tuple[World, Org]
    ) -> None:
        world, org = team
        program_id = await make_program(world, hold_days=0)
        match = await held_match(world)
        assert (await reject(world, match.id)).status_code == 200
        assert (await program_row(world.database, program_id)).reserved_minor == 0

        listed = await world.client.get("/api/v1/matches", headers=org.headers)
        own = listed.json()["data"][0]
        assert (own["status"], own["can_appeal"]) == ("voided", True)
        assert "a ring of fresh accounts" in own["reason"]

        appealed = await world.client.post(
            f"/api/v1/matches/{match.id}/appeal",
            json={"message": "These are our volunteers' families, each gave once."},
            headers=org.headers,
        )
        again = await world.client.post(
            f"/api/v1/matches/{match.id}/appeal",
            json={"message": "Please look again at it."},
            headers=org.headers,
        )

        assert (appealed.status_code, appealed.json()["status"]) == (200, "held_for_review")
        assert appealed.json()["can_appeal"] is False
        assert (again.status_code, again.json()["error"]) == (409, "appeal_not_allowed")
        assert (await program_row(world.database, program_id)).reserved_minor == match.amount_minor
        queue = await world.client.get(
            "/api/v1/admin/matches", params={"status": "held_for_review"}, headers=world.reviewer.headers
        )
        assert [m["appeal_message"] for m in queue.json()["data"]] == [
            "These are our volunteers' families, each gave once."
        ]
        # A new decision round: the admin who rejected may now approve.
        assert (await approve(world, world.reviewer, match.id)).json()["status"] == "approved"
        assert await check_ledger(world.database) == []
        assert (await actions(world.database, match.id))[-3:] == [
            "match.rejected",
            "match.appealed",
            "match.approved",
        ]

    async def test_another_nonprofit_cannot_see_or_appeal(
        self, team: tuple[World, Org], client: httpx.AsyncClient
    ) -> None:
        world, _ = team
        await make_program(world, hold_days=0)
        match = await held_match(world)
        await reject(world, match.id)
        stranger = await sign_up(client)

        listed = await client.get("/api/v1/matches", headers=stranger.headers)
        appealed = await client.post(
            f"/api/v1/matches/{match.id}/appeal",
            json={"message": "It is ours, honestly."},
            headers=stranger.headers,
        )

        assert listed.json()["data"] == []
        assert (appealed.status_code, appealed.json()["error"]) == (404, "match_not_found")

    async def test_an_appeal_the_pool_cannot_cover_is_refused(self, team: tuple[World, Org]) -> None:
        world, org = team
        program_id = await make_program(world, hold_days=0, budget_minor=2_500)
        match = await held_match(world)
        await reject(world, match.id)
        taker = await only_match(world.database, await give(world))  # takes the whole budget again
        assert taker.amount_minor == 2_500

        appealed = await world.client.post(
            f"/api/v1/matches/{match.id}/appeal",
            json={"message": "We disagree with this."},
            headers=org.headers,
        )

        assert (appealed.status_code, appealed.json()["error"]) == (409, "matching_pool_exhausted")
        row = await program_row(world.database, program_id)
        assert row.reserved_minor == 2_500 and row.available_minor == 0

    async def test_only_a_rejection_can_be_appealed(self, team: tuple[World, Org]) -> None:
        world, org = team
        await make_program(world, hold_days=0)
        match = await held_match(world)

        appealed = await world.client.post(
            f"/api/v1/matches/{match.id}/appeal", json={"message": "Why is this held?"}, headers=org.headers
        )

        assert (appealed.status_code, appealed.json()["error"]) == (409, "appeal_not_allowed")


class TestRiskSettings:
    async def test_only_a_superadmin_changes_a_signal_and_it_is_audited(
        self, team: tuple[World, Org]
    ) -> None:
        world, _ = team
        superadmin = await insert_admin(world.database, role=AdminRole.SUPERADMIN)
        denied = await world.client.patch(
            "/api/v1/admin/risk-signals/new_nonprofit", json={"weight": 0}, headers=world.reviewer.headers
        )
        unknown = await world.client.patch(
            "/api/v1/admin/risk-signals/nope", json={"weight": 10}, headers=superadmin.headers
        )
        bad = await world.client.patch(
            "/api/v1/admin/risk-signals/new_nonprofit",
            json={"weight": 10, "threshold": 0},
            headers=superadmin.headers,
        )
        changed = await world.client.patch(
            "/api/v1/admin/risk-signals/new_nonprofit",
            json={"weight": 120, "threshold": 60},
            headers=superadmin.headers,
        )
        listed = await world.client.get("/api/v1/admin/risk-signals", headers=world.reviewer.headers)

        assert (denied.status_code, unknown.status_code, bad.status_code) == (403, 404, 422)
        assert changed.status_code == 200
        row = next(s for s in listed.json()["data"] if s["code"] == "new_nonprofit")
        assert (row["weight"], row["threshold"], row["default_weight"]) == (120, 60, 40)
        async with world.database.transaction() as session:
            entries = await audit.list_entries(
                session, subject_type="risk_signal", subject_id="new_nonprofit"
            )
        assert entries[0].before == {"weight": 40, "threshold": 30, "enabled": True}
        assert entries[0].after == {"weight": 120, "threshold": 60, "enabled": True}

    async def test_weights_and_switches_apply_to_new_matches(self, team: tuple[World, Org]) -> None:
        world, _ = team
        superadmin = await insert_admin(world.database, role=AdminRole.SUPERADMIN)
        await make_program(world, hold_days=0)
        before = await only_match(world.database, await give(world))
        heavier = await world.client.patch(
            "/api/v1/admin/risk-signals/new_nonprofit",
            json={"weight": 150, "threshold": 30},
            headers=superadmin.headers,
        )
        assert heavier.status_code == 200
        after = await only_match(world.database, await give(world))
        await world.client.patch(
            "/api/v1/admin/risk-signals/new_nonprofit",
            json={"weight": 150, "threshold": 30, "enabled": False},
            headers=superadmin.headers,
        )
        switched_off = await only_match(world.database, await give(world))

        assert [(r["code"], r["weight"]) for r in before.risk_reasons] == [("new_nonprofit", 40)]
        assert [(r["code"], r["weight"]) for r in after.risk_reasons] == [("new_nonprofit", 150)]
        assert switched_off.risk_reasons == []
        async with world.database.transaction() as session:
            await lifecycle.release_due_matches(session, now=utcnow() + timedelta(seconds=1))
            statuses = {
                m.id: m.status
                for m in (
                    await session.scalars(sa.select(Match).where(Match.id.in_([before.id, after.id])))
                ).all()
            }
        assert statuses == {before.id: MatchStatus.APPROVED, after.id: MatchStatus.HELD_FOR_REVIEW}


class TestDashboardAppeal:
    async def test_a_member_reads_the_reason_and_appeals_through_the_page(
        self, team: tuple[World, Org]
    ) -> None:
        world, org = team
        await make_program(world, hold_days=0)
        match = await held_match(world)
        await reject(world, match.id, note="Gifts came from one office network.")
        await log_in(world.client, org.email)

        page = await world.client.get("/dashboard/matches")
        assert "Gifts came from one office network." in page.text
        assert f'id="appeal-{match.id}"' in page.text
        token = csrf_token_in(page.text)
        short = await world.client.post(
            f"/dashboard/matches/{match.id}/appeal", data={"csrf_token": token, "message": "no"}
        )
        forged = await world.client.post(
            f"/dashboard/matches/{match.id}/appeal",
            data={"csrf_token": "forged", "message": "Long enough message."},
        )
        sent = await world.client.post(
            f"/dashboard/matches/{match.id}/appeal",
            data={"csrf_token": token, "message": "Our volunteers share that office; each gave once."},
        )
        after = await world.client.get("/dashboard/matches")

        assert short.status_code == 422 and field_error(short.text, f"appeal-{match.id}") is not None
        assert forged.status_code == 403
        assert (sent.status_code, sent.headers["location"]) == (303, "/dashboard/matches")
        assert "Your appeal returned it to review" in after.text
        assert f'id="appeal-{match.id}"' not in after.text
        assert (await reload(world.database, match)).status is MatchStatus.HELD_FOR_REVIEW
