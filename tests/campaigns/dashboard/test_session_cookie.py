from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from service.app import create_app
from service.db import Database
from service.settings import Environment, Settings
from tests import builders
from tests.campaigns.dashboard.helpers import log_in


def _session_cookie(response: httpx.Response) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie" and "goodloop_session=" in v]
    assert cookies, "login should set the session cookie"
    return cookies[-1].lower()


async def _login_response(client: httpx.AsyncClient) -> httpx.Response:
    org = await builders.sign_up(client)
    page = await client.get("/dashboard/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return await client.post(
        "/dashboard/login", data={"csrf_token": token, "email": org.email, "password": builders.PASSWORD}
    )


@pytest.fixture
async def production_client(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    production = dataclasses.replace(settings, env=Environment.PRODUCTION)
    app = create_app(production, database=database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            yield client


class TestSessionCookie:
    async def test_is_signed_httponly_and_samesite_lax(self, client: httpx.AsyncClient) -> None:
        response = await _login_response(client)

        cookie = _session_cookie(response)
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" not in cookie.replace("samesite", "")

    async def test_is_secure_in_production(self, production_client: httpx.AsyncClient) -> None:
        response = await _login_response(production_client)

        cookie = _session_cookie(response)
        assert "; secure" in cookie
        assert "httponly" in cookie

    async def test_a_tampered_cookie_is_not_a_session(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        await log_in(client, org.email)
        value = client.cookies["goodloop_session"]
        client.cookies.set("goodloop_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))

        response = await client.get("/dashboard")

        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard/login"
