from __future__ import annotations

import httpx

from tests import builders


async def test_sign_up_returns_key(client: httpx.AsyncClient) -> None:
    org = await builders.sign_up(client)
    me = await client.get("/api/v1/nonprofits/me", headers=org.headers)
    assert me.status_code == 200
    assert me.json()["status"] == "pending_verification"
