from __future__ import annotations

import hashlib

import httpx
import sqlalchemy as sa

from campaigns.nonprofits.models import ApiKey, Member
from service.db import Database
from tests import builders


class TestSignUp:
    async def test_sign_up_returns_pending_nonprofit_and_one_time_key(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/api/v1/nonprofits", json=builders.sign_up_payload(country="de"))

        assert response.status_code == 201
        body = response.json()
        assert body["status"] == "pending_verification"
        assert body["country"] == "DE"
        assert body["api_key"].startswith(body["api_key_prefix"] + "_")
        me = await client.get("/api/v1/nonprofits/me", headers={"Authorization": f"Bearer {body['api_key']}"})
        assert me.json()["id"] == body["id"]

    async def test_only_a_hash_of_the_key_and_password_is_stored(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await builders.sign_up(client)

        async with database.transaction() as session:
            key = await session.scalar(sa.select(ApiKey))
            member = await session.scalar(sa.select(Member))
        assert key is not None and member is not None
        assert key.digest == hashlib.sha256(org.api_key.encode()).hexdigest()
        assert org.api_key not in (key.digest, key.prefix)
        assert member.password_hash.startswith("$argon2id$")
        assert builders.PASSWORD not in member.password_hash

    async def test_duplicate_email_is_a_conflict_and_writes_nothing(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        first = await builders.sign_up(client)

        response = await client.post(
            "/api/v1/nonprofits", json=builders.sign_up_payload(contact_email=first.email)
        )

        assert response.status_code == 409
        assert response.json()["error"] == "email_taken"
        async with database.transaction() as session:
            count = await session.scalar(sa.text("SELECT count(*) FROM nonprofits"))
        assert count == 1

    async def test_bad_fields_are_listed_one_by_one(self, client: httpx.AsyncClient) -> None:
        payload = builders.sign_up_payload(
            contact_email="not-an-email", password="short", country="XX", website="ftp://x"
        )

        response = await client.post("/api/v1/nonprofits", json=payload)

        assert response.status_code == 422
        body = response.json()
        assert body["error"] == "validation_failed"
        assert set(body["fields"]) == {"contact_email", "password", "country", "website"}

    async def test_unknown_fields_are_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/nonprofits", json=builders.sign_up_payload(status="verified"))

        assert response.status_code == 422
        assert "status" in response.json()["fields"]

    async def test_nul_bytes_are_a_422_not_a_500(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/nonprofits", json=builders.sign_up_payload(name="Harbor\x00Relief")
        )

        assert response.status_code == 422
        assert "name" in response.json()["fields"]

    async def test_malformed_json_is_a_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/nonprofits", content=b"{not json", headers={"content-type": "application/json"}
        )

        assert response.status_code == 400
        assert response.json() == {"error": "invalid_json", "detail": "the request body is not valid JSON"}

    async def test_sign_up_is_rate_limited_per_client(self, client: httpx.AsyncClient) -> None:
        statuses = [
            (await client.post("/api/v1/nonprofits", json=builders.sign_up_payload())).status_code
            for _ in range(11)
        ]

        assert statuses[:10] == [201] * 10
        assert statuses[10] == 429


class TestApiKeys:
    async def test_keys_are_listed_with_prefix_and_last_use_but_never_the_secret(
        self, client: httpx.AsyncClient
    ) -> None:
        org = await builders.sign_up(client)

        listed = await client.get("/api/v1/api-keys", headers=org.headers)

        assert listed.status_code == 200
        (key,) = listed.json()["data"]
        assert org.api_key.startswith(key["prefix"])
        assert key["last_used_at"] is not None
        assert org.api_key not in listed.text

    async def test_created_key_works_and_revoked_key_stops_working(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        created = await client.post("/api/v1/api-keys", json={"name": "ci"}, headers=org.headers)
        assert created.status_code == 201
        new_key = created.json()
        new_headers = {"Authorization": f"Bearer {new_key['api_key']}"}
        assert (await client.get("/api/v1/nonprofits/me", headers=new_headers)).status_code == 200

        revoked = await client.post(f"/api/v1/api-keys/{new_key['id']}/revoke", headers=org.headers)

        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        refused = await client.get("/api/v1/nonprofits/me", headers=new_headers)
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_api_key"

    async def test_garbage_and_admin_tokens_are_not_api_keys(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await builders.insert_admin(database)

        garbage = await client.get("/api/v1/campaigns", headers={"Authorization": "Bearer nope"})
        as_admin = await client.get("/api/v1/campaigns", headers=admin.headers)

        assert garbage.status_code == 401
        assert as_admin.status_code == 401


class TestMembers:
    async def test_owner_invites_a_member_who_accepts_and_appears(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)

        invite = await client.post(
            "/api/v1/members/invites",
            json={"email": "Editor@Harbor-Relief.org", "role": "editor"},
            headers=org.headers,
        )

        assert invite.status_code == 201
        body = invite.json()
        assert body["email"] == "editor@harbor-relief.org"
        assert body["accept_url"].startswith("http://testserver/dashboard/invite/")
        members = await client.get("/api/v1/members", headers=org.headers)
        assert [m["role"] for m in members.json()["data"]] == ["owner"]

    async def test_inviting_an_existing_email_is_a_conflict(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)

        response = await client.post(
            "/api/v1/members/invites", json={"email": org.email, "role": "viewer"}, headers=org.headers
        )

        assert response.status_code == 409
        assert response.json()["error"] == "email_taken"
