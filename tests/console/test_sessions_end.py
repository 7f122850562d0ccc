"""Console sessions end on the server: sign-out, idle time, a password reset, and lockouts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from service.auth.admins import set_admin_password
from service.auth.models import AuthSession, SessionKind
from service.db import Database, utcnow
from service.settings import SettingsError, load_settings
from tests.console import helpers
from tests.console.helpers import submit

SESSION_COOKIE = "goodloop_session"


@pytest.fixture
async def elsewhere(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser, on another network."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.66", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def opens_console(client: httpx.AsyncClient) -> bool:
    response = await client.get("/admin")
    assert response.status_code in (200, 303), response.text
    return response.status_code == 200


async def idle_for(database: Database, admin_id: object, idle: timedelta) -> None:
    """Move the clock as the server sees it: the session was last used `idle` ago."""
    async with database.transaction() as session:
        result = await session.execute(
            sa.update(AuthSession)
            .where(AuthSession.kind == SessionKind.ADMIN, AuthSession.subject_id == admin_id)
            .values(last_seen_at=utcnow() - idle)
        )
        assert getattr(result, "rowcount", 0) == 1


class TestSignOut:
    async def test_a_copied_cookie_opens_nothing_after_sign_out(
        self, client: httpx.AsyncClient, elsewhere: httpx.AsyncClient, database: Database
    ) -> None:
        await helpers.signed_in_admin(client, database)
        elsewhere.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
        assert await opens_console(elsewhere)  # the copy works while the session lives

        await submit(client, "/admin/logout", page="/admin")

        assert not await opens_console(elsewhere)
        assert (await elsewhere.get("/admin/audit-log")).status_code == 303


class TestIdleTimeout:
    async def test_a_session_idle_past_thirty_minutes_is_over(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.signed_in_admin(client, database)

        await idle_for(database, admin.id, timedelta(minutes=31))

        response = await client.get("/admin/audit-log")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login")

    async def test_a_session_used_within_the_timeout_stays(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.signed_in_admin(client, database)

        await idle_for(database, admin.id, timedelta(minutes=29))

        assert await opens_console(client)
        async with database.transaction() as session:
            seen = await session.scalar(
                sa.select(AuthSession.last_seen_at).where(AuthSession.subject_id == admin.id)
            )
        assert seen is not None and utcnow() - seen < timedelta(minutes=1)  # the visit counted


class TestPasswordReset:
    async def test_a_new_password_ends_every_console_session(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.signed_in_admin(client, database)

        async with database.transaction() as session:
            await set_admin_password(session, email=admin.email, password="another long passphrase")

        assert not await opens_console(client)


class TestSignInLockout:
    async def test_failures_from_elsewhere_do_not_lock_out_a_known_browser(
        self, client: httpx.AsyncClient, elsewhere: httpx.AsyncClient, app: Starlette, database: Database
    ) -> None:
        admin = await helpers.signed_in_admin(client, database)  # this browser is known from now on
        await submit(client, "/admin/logout", page="/admin")
        statuses = []
        for _ in range(12):
            response = await submit(
                elsewhere, "/admin/login", {"email": admin.email, "password": "guess"}, page="/admin/login"
            )
            statuses.append(response.status_code)
        assert statuses[-1] == 429

        transport = httpx.ASGITransport(app=app, client=("192.0.2.200", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as unknown:
            locked = await submit(
                unknown,
                "/admin/login",
                {"email": admin.email, "password": admin.password},
                page="/admin/login",
            )
        owner = await submit(
            client, "/admin/login", {"email": admin.email, "password": admin.password}, page="/admin/login"
        )

        assert locked.status_code == 429
        assert owner.status_code == 303
        assert await opens_console(client)


class TestIdleSetting:
    def test_thirty_minutes_unless_told(self) -> None:
        base = {"GOODLOOP_SECRET_KEY": "x" * 40}
        assert load_settings(base).admin_idle_timeout == timedelta(minutes=30)
        told = load_settings({**base, "GOODLOOP_ADMIN_IDLE_TIMEOUT_MINUTES": "10"})
        assert told.admin_idle_timeout == timedelta(minutes=10)

    @pytest.mark.parametrize("value", ["0", "ten", "100000"])
    def test_a_nonsense_timeout_is_refused(self, value: str) -> None:
        with pytest.raises(SettingsError, match="GOODLOOP_ADMIN_IDLE_TIMEOUT_MINUTES"):
            load_settings({"GOODLOOP_SECRET_KEY": "x" * 40, "GOODLOOP_ADMIN_IDLE_TIMEOUT_MINUTES": value})
