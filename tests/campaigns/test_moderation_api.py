from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from service.auth.models import AdminRole
from service.db import Database
from tests import builders


class TestNonprofitVerification:
    async def test_reviewer_verifies_and_it_is_audited(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)

        queue = await client.get("/api/v1/admin/nonprofits", headers=admin.headers)
        verified = await client.post(
            f"/api/v1/admin/nonprofits/{org.id}/verify",
            json={"note": "registry checked"},
            headers=admin.headers,
        )

        assert [n["id"] for n in queue.json()["data"]] == [org.id]
        assert verified.status_code == 200
        assert verified.json()["status"] == "verified"
        log = await client.get(
            "/api/v1/admin/audit-log", params={"subject_id": org.id}, headers=admin.headers
        )
        (entry,) = log.json()["data"]
        assert entry["action"] == "nonprofit.verify"
        assert entry["actor_label"] == admin.email
        assert entry["before"] == {"status": "pending_verification"}
        assert entry["after"] == {"status": "verified"}
        assert entry["note"] == "registry checked"

    async def test_rejection_reason_is_visible_to_the_nonprofit(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)

        rejected = await client.post(
            f"/api/v1/admin/nonprofits/{org.id}/reject",
            json={"reason": "registration number not found"},
            headers=admin.headers,
        )

        assert rejected.status_code == 200
        me = await client.get("/api/v1/nonprofits/me", headers=org.headers)
        assert me.json()["status"] == "rejected"
        assert me.json()["status_reason"] == "registration number not found"

    async def test_reject_needs_a_reason(self, client: httpx.AsyncClient, database: Database) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)

        response = await client.post(
            f"/api/v1/admin/nonprofits/{org.id}/reject", json={}, headers=admin.headers
        )

        assert response.status_code == 422
        assert "reason" in response.json()["fields"]

    async def test_verifying_twice_is_409(self, client: httpx.AsyncClient, database: Database) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)
        await builders.verify(client, admin, org)

        again = await client.post(f"/api/v1/admin/nonprofits/{org.id}/verify", json={}, headers=admin.headers)

        assert again.status_code == 409
        assert again.json()["error"] == "illegal_nonprofit_transition"

    async def test_finance_admin_cannot_verify(self, client: httpx.AsyncClient, database: Database) -> None:
        org = await builders.sign_up(client)
        finance = await builders.insert_admin(database, role=AdminRole.FINANCE)

        response = await client.post(
            f"/api/v1/admin/nonprofits/{org.id}/verify", json={}, headers=finance.headers
        )

        assert response.status_code == 403
        assert response.json()["error"] == "admin_role_required"

    async def test_nonprofit_key_cannot_use_admin_api(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)

        response = await client.post(
            f"/api/v1/admin/nonprofits/{org.id}/verify", json={}, headers=org.headers
        )

        assert response.status_code == 401

    async def test_unknown_nonprofit_is_404(self, client: httpx.AsyncClient, database: Database) -> None:
        admin = await builders.insert_admin(database)

        response = await client.post(
            "/api/v1/admin/nonprofits/00000000-0000-4000-8000-000000000000/verify",
            json={},
            headers=admin.headers,
        )

        assert response.status_code == 404


class TestCampaignModeration:
    async def test_approve_makes_campaign_live(self, client: httpx.AsyncClient, database: Database) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)
        await builders.verify(client, admin, org)
        campaign = await builders.create_campaign(client, org)
        await client.post(f"/api/v1/campaigns/{campaign['id']}/submit", headers=org.headers)

        queue = await client.get("/api/v1/admin/campaigns/review-queue", headers=admin.headers)
        approved = await client.post(
            f"/api/v1/admin/campaigns/{campaign['id']}/approve", json={}, headers=admin.headers
        )

        assert [c["id"] for c in queue.json()["data"]] == [campaign["id"]]
        assert approved.json()["status"] == "live"
        assert approved.json()["approved_at"] is not None

    async def test_reject_returns_to_draft_with_reason_for_the_nonprofit(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)
        await builders.verify(client, admin, org)
        campaign = await builders.create_campaign(client, org)
        await client.post(f"/api/v1/campaigns/{campaign['id']}/submit", headers=org.headers)

        rejected = await client.post(
            f"/api/v1/admin/campaigns/{campaign['id']}/reject",
            json={"reason": "please add the project budget"},
            headers=admin.headers,
        )

        assert rejected.status_code == 200
        seen = await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=org.headers)
        assert seen.json()["status"] == "draft"
        assert seen.json()["review_note"] == "please add the project budget"
        log = await client.get(
            "/api/v1/admin/audit-log", params={"action": "campaign.reject"}, headers=admin.headers
        )
        (entry,) = log.json()["data"]
        assert entry["before"]["status"] == "in_review"
        assert entry["after"]["status"] == "draft"
        assert entry["note"] == "please add the project budget"

    async def test_approving_a_draft_is_409(self, client: httpx.AsyncClient, database: Database) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)
        campaign = await builders.create_campaign(client, org)

        response = await client.post(
            f"/api/v1/admin/campaigns/{campaign['id']}/approve", json={}, headers=admin.headers
        )

        assert response.status_code == 409
        assert response.json()["error"] == "illegal_transition"

    async def test_campaign_of_a_nonprofit_rejected_meanwhile_cannot_go_live(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)
        await builders.verify(client, admin, org)
        campaign = await builders.create_campaign(client, org)
        await client.post(f"/api/v1/campaigns/{campaign['id']}/submit", headers=org.headers)
        await client.post(
            f"/api/v1/admin/nonprofits/{org.id}/reject",
            json={"reason": "charity deregistered"},
            headers=admin.headers,
        )

        response = await client.post(
            f"/api/v1/admin/campaigns/{campaign['id']}/approve", json={}, headers=admin.headers
        )

        assert response.status_code == 409
        assert response.json()["error"] == "nonprofit_not_verified"


class TestAuditLogIsAppendOnly:
    @pytest.mark.parametrize(
        "statement", ["UPDATE audit_log SET note = 'rewritten'", "DELETE FROM audit_log"]
    )
    async def test_database_refuses_to_change_history(
        self, client: httpx.AsyncClient, database: Database, statement: str
    ) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database)
        await builders.verify(client, admin, org)

        with pytest.raises(DBAPIError, match="append-only"):
            async with database.transaction() as session:
                await session.execute(sa.text(statement))

        async with database.transaction() as session:
            notes = (await session.execute(sa.text("SELECT note FROM audit_log"))).scalars().all()
        assert notes == [None]
