"""Idempotency-Key on the API's authenticated POSTs: a retry gets the first answer and creates
nothing; another request under the same key is refused; racing requests run the use case once."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from campaigns.campaign.models import Campaign
from campaigns.matching.models import MatchingProgram
from service.auth.models import AdminRole
from service.db import Database
from service.web import idempotency
from service.web.idempotency import IdempotencyKey
from tests.builders import Org, campaign_payload, insert_admin, sign_up
from tests.campaigns.matching.helpers import program_payload


def keyed(org: Org, key: str) -> dict[str, str]:
    return {**org.headers, "Idempotency-Key": key}


async def campaigns_titled(database: Database, title: str) -> int:
    async with database.transaction() as session:
        count = await session.scalar(
            sa.select(sa.func.count()).select_from(Campaign).where(Campaign.title == title)
        )
    return int(count or 0)


class TestReplay:
    async def test_a_retry_gets_the_first_answer_and_creates_nothing(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await sign_up(client)
        payload = campaign_payload(title="Coats, once")
        first = await client.post("/api/v1/campaigns", json=payload, headers=keyed(org, "order-1"))
        again = await client.post("/api/v1/campaigns", json=payload, headers=keyed(org, "order-1"))

        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert again.headers["content-type"] == first.headers["content-type"]
        assert await campaigns_titled(database, "Coats, once") == 1

    async def test_without_the_header_every_post_runs(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await sign_up(client)
        for _ in range(2):
            response = await client.post(
                "/api/v1/campaigns", json=campaign_payload(title="Two"), headers=org.headers
            )
            assert response.status_code == 201
        assert await campaigns_titled(database, "Two") == 2

    async def test_a_refusal_is_stored_too(self, client: httpx.AsyncClient, database: Database) -> None:
        org = await sign_up(client)
        taken = campaign_payload(title="Slug owner")
        assert (await client.post("/api/v1/campaigns", json=taken, headers=org.headers)).status_code == 201
        clash = campaign_payload(title="Clash", slug=taken["slug"])
        first = await client.post("/api/v1/campaigns", json=clash, headers=keyed(org, "clash"))
        again = await client.post("/api/v1/campaigns", json=clash, headers=keyed(org, "clash"))

        assert (first.status_code, first.json()["error"]) == (409, "slug_taken")
        assert (again.status_code, again.json(), again.headers["idempotent-replayed"]) == (
            409,
            first.json(),
            "true",
        )

    async def test_the_admin_api_takes_keys_too(self, client: httpx.AsyncClient, database: Database) -> None:
        finance = await insert_admin(database, role=AdminRole.FINANCE)
        payload = program_payload(name="Keyed match")
        headers = {**finance.headers, "Idempotency-Key": "program-1"}
        first = await client.post("/api/v1/admin/matching-programs", json=payload, headers=headers)
        again = await client.post("/api/v1/admin/matching-programs", json=payload, headers=headers)

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json()["id"] == first.json()["id"]
        async with database.transaction() as session:
            count = await session.scalar(
                sa.select(sa.func.count())
                .select_from(MatchingProgram)
                .where(MatchingProgram.name == "Keyed match")
            )
        assert count == 1


class TestRefusals:
    async def test_the_same_key_for_another_body_is_a_409(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await sign_up(client)
        first = await client.post(
            "/api/v1/campaigns", json=campaign_payload(title="A"), headers=keyed(org, "k")
        )
        other = await client.post(
            "/api/v1/campaigns", json=campaign_payload(title="B"), headers=keyed(org, "k")
        )

        assert first.status_code == 201
        assert (other.status_code, other.json()["error"]) == (409, "idempotency_key_reused")
        assert await campaigns_titled(database, "B") == 0

    async def test_the_same_key_on_another_path_is_a_409(self, client: httpx.AsyncClient) -> None:
        org = await sign_up(client)
        created = await client.post("/api/v1/campaigns", json=campaign_payload(), headers=keyed(org, "k"))
        submit = await client.post(
            f"/api/v1/campaigns/{created.json()['id']}/submit", headers=keyed(org, "k")
        )
        assert (submit.status_code, submit.json()["error"]) == (409, "idempotency_key_reused")

    @pytest.mark.parametrize("key", ["", " leading", "trailing ", "x" * 256, "tab\tinside", "é"])
    async def test_a_malformed_key_is_a_400_and_runs_nothing(
        self, client: httpx.AsyncClient, database: Database, key: str
    ) -> None:
        org = await sign_up(client)
        response = await client.post(
            "/api/v1/campaigns",
            json=campaign_payload(title="Malformed"),
            headers=[*org.headers.items(), ("Idempotency-Key", key.encode())],  # type: ignore[list-item]
        )
        assert (response.status_code, response.json()["error"]) == (400, "invalid_idempotency_key")
        assert await campaigns_titled(database, "Malformed") == 0

    async def test_a_stranger_hears_401_before_anything_about_the_key(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/v1/campaigns",
            json=campaign_payload(),
            headers={"Authorization": "Bearer nope", "Idempotency-Key": " bad"},
        )
        assert response.status_code == 401


class TestIsolation:
    async def test_two_nonprofits_with_one_key_do_not_meet(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        a, b = await sign_up(client), await sign_up(client)
        first = await client.post(
            "/api/v1/campaigns", json=campaign_payload(title="Mine"), headers=keyed(a, "same")
        )
        second = await client.post(
            "/api/v1/campaigns", json=campaign_payload(title="Theirs"), headers=keyed(b, "same")
        )

        assert (first.status_code, second.status_code) == (201, 201)
        assert "idempotent-replayed" not in second.headers
        assert second.json()["nonprofit_id"] == b.id != first.json()["nonprofit_id"]


class TestExpiry:
    async def test_an_expired_key_is_free_again_and_purged(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await sign_up(client)
        assert (
            await client.post("/api/v1/campaigns", json=campaign_payload(), headers=keyed(org, "old"))
        ).status_code == 201
        async with database.transaction() as session:
            await session.execute(
                sa.update(IdempotencyKey).values(
                    created_at=session.now() - idempotency.KEY_TTL - timedelta(seconds=1)
                )
            )
        reused = await client.post(
            "/api/v1/campaigns", json=campaign_payload(title="New"), headers=keyed(org, "old")
        )
        assert reused.status_code == 201 and "idempotent-replayed" not in reused.headers
        async with database.transaction() as session:
            await session.execute(
                sa.update(IdempotencyKey).values(
                    created_at=session.now() - idempotency.KEY_TTL - timedelta(seconds=1)
                )
            )
        assert await idempotency.purge_expired(database) == 1
        assert await idempotency.purge_expired(database) == 0


ON_POSTGRES = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@ON_POSTGRES
class TestConcurrency:
    async def test_racing_requests_with_one_key_create_one_campaign(
        self, app: Starlette, client: httpx.AsyncClient, database: Database, db_url: str
    ) -> None:
        assert db_url.startswith("postgresql")
        org = await sign_up(client)
        payload = json.dumps(campaign_payload(title="Raced")).encode()
        headers = {**keyed(org, "race"), "Content-Type": "application/json"}
        # Separate clients: each request is its own connection, all in flight at once.
        transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as racer:
            answers = await asyncio.gather(
                *(racer.post("/api/v1/campaigns", content=payload, headers=headers) for _ in range(12))
            )

        statuses = [a.status_code for a in answers]
        assert set(statuses) <= {201, 409}, statuses
        created = [a for a in answers if a.status_code == 201]
        assert len({a.json()["id"] for a in created}) == 1
        assert sum(1 for a in created if "idempotent-replayed" not in a.headers) == 1
        busy = [a.json()["error"] for a in answers if a.status_code == 409]
        assert set(busy) <= {"idempotency_key_in_progress"}
        assert await campaigns_titled(database, "Raced") == 1
        after = await client.post("/api/v1/campaigns", content=payload, headers=headers)
        assert (after.status_code, after.json()["id"]) == (201, created[0].json()["id"])


class TestOpenApi:
    async def test_every_authenticated_post_documents_the_header(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/api/v1/openapi.json")).json()
        posts = {path: ops["post"] for path, ops in document["paths"].items() if "post" in ops}
        keyed_posts = {
            path
            for path, op in posts.items()
            if any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
        }
        secured = {path for path, op in posts.items() if op.get("security")}
        assert secured and keyed_posts == secured
        for path in keyed_posts:
            assert {"400", "409"} <= set(posts[path]["responses"])
