"""Stored idempotent answers are sealed: a one-time secret in an answer (a webhook endpoint's
signing secret) never sits readable in `idempotency_keys`, a replay still gets the first answer,
and a sealed answer that no longer opens (rotated GOODLOOP_SECRET_KEY, altered or copied row)
is a 409 idempotency_key_unreadable that runs nothing again."""

from __future__ import annotations

import dataclasses

import httpx
import sqlalchemy as sa
from starlette.applications import Starlette

from campaigns.integrations.endpoint_models import WebhookEndpoint
from service.db import Database
from service.web.idempotency import IdempotencyKey
from tests.builders import Org, sign_up

BASE = "/api/v1/webhook-endpoints"
ENDPOINT = {"url": "https://crm.example.org/in", "enabled_events": ["*"]}


def keyed(org: Org, key: str) -> dict[str, str]:
    return {**org.headers, "Idempotency-Key": key}


async def stored_rows(database: Database) -> list[tuple[str, bytes | None, object]]:
    async with database.transaction() as session:
        rows = await session.execute(
            sa.text("SELECT key, response_body, response_headers FROM idempotency_keys ORDER BY key")
        )
        return [(r[0], bytes(r[1]) if r[1] is not None else None, r[2]) for r in rows]


async def endpoints(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) or 0)


class TestSealed:
    async def test_the_secret_is_not_stored_readable_and_a_replay_still_gets_it(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await sign_up(client)
        first = await client.post(BASE, json=ENDPOINT, headers=keyed(org, "hook-1"))
        assert first.status_code == 201, first.text
        secret = first.json()["secret"]
        url = f"{BASE}/{first.json()['id']}/roll-secret"
        rolled = await client.post(url, headers=keyed(org, "roll-1"))
        assert rolled.status_code == 200, rolled.text
        new_secret = rolled.json()["secret"]

        rows = await stored_rows(database)
        assert [key for key, _, _ in rows] == ["hook-1", "roll-1"]
        for _, body, headers in rows:
            assert body is not None
            for plain in (
                secret,
                new_secret,
                secret.removeprefix("whsec_"),
                new_secret.removeprefix("whsec_"),
            ):
                assert plain.encode() not in body
            assert b"whsec_" not in body and b"application/json" not in body
            assert headers is None

        again = await client.post(BASE, json=ENDPOINT, headers=keyed(org, "hook-1"))
        assert (again.status_code, again.json(), again.headers["idempotent-replayed"]) == (
            201,
            first.json(),
            "true",
        )
        assert again.headers["content-type"] == first.headers["content-type"]
        rolled_again = await client.post(url, headers=keyed(org, "roll-1"))
        assert (rolled_again.status_code, rolled_again.json()["secret"]) == (200, new_secret)
        assert await endpoints(database) == 1

    async def test_a_new_api_key_is_not_stored_readable(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await sign_up(client)
        first = await client.post("/api/v1/api-keys", json={"name": "CRM"}, headers=keyed(org, "key-1"))
        assert first.status_code == 201, first.text
        plaintext = first.json()["api_key"]
        [(_, body, _)] = await stored_rows(database)
        assert body is not None and plaintext.encode() not in body
        again = await client.post("/api/v1/api-keys", json={"name": "CRM"}, headers=keyed(org, "key-1"))
        assert (again.status_code, again.json()["api_key"]) == (201, plaintext)

    async def test_a_rotated_secret_key_is_a_409_and_runs_nothing_again(
        self, app: Starlette, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await sign_up(client)
        assert (await client.post(BASE, json=ENDPOINT, headers=keyed(org, "hook"))).status_code == 201
        before = app.state.settings
        app.state.settings = dataclasses.replace(before, secret_key="another-" + before.secret_key)
        try:
            again = await client.post(BASE, json=ENDPOINT, headers=keyed(org, "hook"))
        finally:
            app.state.settings = before
        assert (again.status_code, again.json()["error"]) == (409, "idempotency_key_unreadable")
        assert await endpoints(database) == 1
        # Under the key it was sealed with, the answer opens again.
        back = await client.post(BASE, json=ENDPOINT, headers=keyed(org, "hook"))
        assert (back.status_code, back.headers["idempotent-replayed"]) == (201, "true")

    async def test_an_answer_copied_onto_another_key_or_altered_does_not_open(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        org = await sign_up(client)
        other = {**ENDPOINT, "url": "https://crm.example.org/other"}
        assert (await client.post(BASE, json=ENDPOINT, headers=keyed(org, "a"))).status_code == 201
        assert (await client.post(BASE, json=other, headers=keyed(org, "b"))).status_code == 201
        rows = {key: body for key, body, _ in await stored_rows(database)}
        async with database.transaction() as session:
            await session.execute(
                sa.update(IdempotencyKey).where(IdempotencyKey.key == "b").values(response_body=rows["a"])
            )
        copied = await client.post(BASE, json=other, headers=keyed(org, "b"))
        assert (copied.status_code, copied.json()["error"]) == (409, "idempotency_key_unreadable")

        sealed = rows["a"]
        assert sealed is not None
        flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
        async with database.transaction() as session:
            await session.execute(
                sa.update(IdempotencyKey).where(IdempotencyKey.key == "a").values(response_body=flipped)
            )
        altered = await client.post(BASE, json=ENDPOINT, headers=keyed(org, "a"))
        assert (altered.status_code, altered.json()["error"]) == (409, "idempotency_key_unreadable")
        assert await endpoints(database) == 2
