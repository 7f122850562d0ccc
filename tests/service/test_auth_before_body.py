"""Who is calling is checked before what they sent: without valid credentials, a bad body or
query is a 401, never a 422 or 400 that tells a stranger how the endpoint validates.

The table is the OpenAPI document: every operation that needs credentials and takes a body
or query parameters, for the admin API and the nonprofit API alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from campaigns.nonprofits.actors import API_KEY_KIND
from service.auth.admins import ADMIN_TOKEN_KIND
from service.auth.models import AdminRole
from service.db import Database
from tests import builders

BAD_BODIES = {
    "not JSON": b"{",
    "fields that do not exist": b'{"no_such_field": 1, "amount_minor": "lots"}',
}


@dataclass(frozen=True)
class GuardedOperation:
    method: str
    path: str
    has_body: bool
    query: tuple[str, ...]

    @property
    def admin(self) -> bool:
        return self.path.startswith("/api/v1/admin/")

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def _concrete(path: str) -> str:
    parts = []
    for part in path.split("/"):
        if part.startswith("{"):
            parts.append(str(uuid.uuid4()) if part.endswith("_id}") else "some-code")
        else:
            parts.append(part)
    return "/".join(parts)


@pytest.fixture
async def guarded(client: httpx.AsyncClient) -> list[GuardedOperation]:
    document = (await client.get("/api/v1/openapi.json")).json()
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if not operation.get("security"):
                continue
            query = tuple(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
            # A file upload (multipart/form-data) takes no JSON; its own tests cover it.
            has_body = "application/json" in operation.get("requestBody", {}).get("content", {})
            if has_body or query:
                operations.append(GuardedOperation(method.upper(), _concrete(path), has_body, query))
    assert sum(op.has_body for op in operations) >= 15
    assert sum(op.admin for op in operations) >= 10 and sum(not op.admin for op in operations) >= 5
    return operations


async def call_with_bad_input(
    client: httpx.AsyncClient, op: GuardedOperation, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    if op.has_body:
        return await client.request(
            op.method, op.path, content=body, headers={**headers, "Content-Type": "application/json"}
        )
    # Every query parameter given twice with a value no schema takes.
    params = [(name, "\x00not-a-value") for name in op.query for _ in range(2)]
    return await client.request(op.method, op.path, params=params, headers=headers)


def unauthenticated(responses: dict[str, httpx.Response]) -> dict[str, str]:
    """The operations that did not answer 401 with a JSON error, and what they said."""
    return {
        label: f"{r.status_code} {r.text[:160]}"
        for label, r in responses.items()
        if r.status_code != 401 or "error" not in r.json()
    }


class TestAuthenticationBeforeInput:
    @pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
    async def test_no_credentials_and_bad_input_is_401(
        self, client: httpx.AsyncClient, guarded: list[GuardedOperation], body: bytes
    ) -> None:
        responses = {op.label: await call_with_bad_input(client, op, body, {}) for op in guarded}

        assert unauthenticated(responses) == {}

    async def test_a_wrong_token_and_bad_input_is_401(
        self, client: httpx.AsyncClient, guarded: list[GuardedOperation]
    ) -> None:
        def forged(op: GuardedOperation) -> dict[str, str]:
            # Shaped like the real thing, so it is looked up rather than refused on sight.
            kind = ADMIN_TOKEN_KIND if op.admin else API_KEY_KIND
            return {"Authorization": f"Bearer gl_{kind}_deadbeef_{'x' * 43}"}

        responses = {op.label: await call_with_bad_input(client, op, b"{", forged(op)) for op in guarded}

        assert unauthenticated(responses) == {}

    async def test_the_other_kind_of_credential_and_bad_input_is_401(
        self, client: httpx.AsyncClient, database: Database, guarded: list[GuardedOperation]
    ) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database, role=AdminRole.SUPERADMIN)

        responses = {
            op.label: await call_with_bad_input(client, op, b"{", org.headers if op.admin else admin.headers)
            for op in guarded
        }

        assert unauthenticated(responses) == {}

    async def test_valid_credentials_still_hear_what_is_wrong_with_the_input(
        self, client: httpx.AsyncClient, database: Database, guarded: list[GuardedOperation]
    ) -> None:
        org = await builders.sign_up(client)
        admin = await builders.insert_admin(database, role=AdminRole.SUPERADMIN)

        statuses = {
            op.label: (
                await call_with_bad_input(client, op, b"{", admin.headers if op.admin else org.headers)
            ).status_code
            for op in guarded
        }

        assert {label: s for label, s in statuses.items() if s not in {400, 422}} == {}
