"""Dashboard sessions end on the server: sign-out, a password change, and sign-in lockouts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from tests import builders
from tests.campaigns.dashboard.helpers import log_in, submit

SESSION_COOKIE = "goodloop_session"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def elsewhere(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser, on another network."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.66", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def copy_session(source: httpx.AsyncClient, target: httpx.AsyncClient) -> None:
    value = source.cookies.get(SESSION_COOKIE)
    assert value, "the source browser is not signed in"
    target.cookies.set(SESSION_COOKIE, value)


async def opens_dashboard(client: httpx.AsyncClient) -> bool:
    response = await client.get("/dashboard")
    assert response.status_code in (200, 303), response.text
    return response.status_code == 200


class TestSignOut:
    async def test_a_copied_cookie_opens_nothing_after_sign_out(
        self, client: httpx.AsyncClient, elsewhere: httpx.AsyncClient
    ) -> None:
        org = await builders.sign_up(client)
        await log_in(client, org.email)
        copy_session(client, elsewhere)
        assert await opens_dashboard(elsewhere)  # the copy works while the session lives

        signed_out = await submit(client, "/dashboard/logout", page="/dashboard")

        assert signed_out.status_code == 303
        assert not await opens_dashboard(elsewhere)
        assert (await elsewhere.get("/dashboard/campaigns")).status_code == 303
        assert not await opens_dashboard(client)


class TestPasswordChange:
    async def test_other_sessions_end_and_this_one_stays(
        self, client: httpx.AsyncClient, elsewhere: httpx.AsyncClient
    ) -> None:
        org = await builders.sign_up(client)
        await log_in(elsewhere, org.email)
        await log_in(client, org.email)

        changed = await submit(
            client,
            "/dashboard/password",
            {"current_password": builders.PASSWORD, "new_password": NEW_PASSWORD},
            page="/dashboard/password",
        )

        assert changed.status_code == 303, changed.text
        page = (await client.get("/dashboard/password")).text
        assert "1 other browser signed in as you" in page
        assert await opens_dashboard(client)
        assert not await opens_dashboard(elsewhere)
        await log_in(elsewhere, org.email, NEW_PASSWORD)
        assert await opens_dashboard(elsewhere)

    async def test_the_current_password_is_asked_again(
        self, client: httpx.AsyncClient, elsewhere: httpx.AsyncClient
    ) -> None:
        org = await builders.sign_up(client)
        await log_in(elsewhere, org.email)
        await log_in(client, org.email)

        refused = await submit(
            client,
            "/dashboard/password",
            {"current_password": "not my password", "new_password": NEW_PASSWORD},
            page="/dashboard/password",
        )

        assert refused.status_code == 422
        assert re.search(r"not your current password", refused.text)
        assert await opens_dashboard(elsewhere)


class TestSignInLockout:
    async def test_failures_from_elsewhere_do_not_lock_out_a_known_browser(
        self, client: httpx.AsyncClient, elsewhere: httpx.AsyncClient, app: Starlette
    ) -> None:
        org = await builders.sign_up(client)
        await log_in(client, org.email)  # the owner's browser, known from now on
        await submit(client, "/dashboard/logout", page="/dashboard")
        statuses = []
        for _ in range(12):
            response = await submit(elsewhere, "/dashboard/login", {"email": org.email, "password": "guess"})
            statuses.append(response.status_code)
        assert statuses[-1] == 429

        transport = httpx.ASGITransport(app=app, client=("192.0.2.200", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as unknown:
            locked = await submit(
                unknown, "/dashboard/login", {"email": org.email, "password": builders.PASSWORD}
            )
        owner = await submit(client, "/dashboard/login", {"email": org.email, "password": builders.PASSWORD})

        assert locked.status_code == 429
        assert owner.status_code == 303
        assert await opens_dashboard(client)

    async def test_a_known_browser_still_has_a_limit_of_its_own(self, client: httpx.AsyncClient) -> None:
        org = await builders.sign_up(client)
        await log_in(client, org.email)
        await submit(client, "/dashboard/logout", page="/dashboard")
        statuses = []
        for _ in range(11):
            response = await submit(client, "/dashboard/login", {"email": org.email, "password": "guess"})
            statuses.append(response.status_code)

        assert statuses == [400] * 10 + [429]
