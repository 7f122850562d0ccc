"""Console sign-in, sign-out and the role guard, through HTTP."""

from __future__ import annotations

import re

import httpx
import pytest

from service.auth.admins import authenticate_admin_password, set_admin_password
from service.auth.models import AdminRole
from service.db import Database
from service.errors import NotFound, Unauthenticated, ValidationFailed
from tests import builders
from tests.campaigns.dashboard import helpers as dashboard
from tests.campaigns.dashboard.helpers import error_code, form_error
from tests.console import helpers
from tests.console.helpers import sign_in, submit

CONSOLE_PAGES = ["/admin", "/admin/nonprofits", "/admin/campaigns", "/admin/audit-log"]


class TestSignIn:
    async def test_right_password_opens_the_console(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.insert_console_admin(database, role=AdminRole.FINANCE)

        await sign_in(client, admin)

        page = await client.get("/admin")
        assert page.status_code == 200
        assert f"{admin.email} · finance" in page.text
        assert 'id="sign-out"' in page.text

    async def test_wrong_password_is_refused_with_a_message(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.insert_console_admin(database)

        response = await submit(
            client,
            "/admin/login",
            {"email": admin.email, "password": "not the password"},
            page="/admin/login",
        )

        assert response.status_code == 401
        assert form_error(response.text) == "That email and password do not match an admin account."
        assert (await client.get("/admin")).status_code == 303

    async def test_unknown_email_gets_the_same_message(self, client: httpx.AsyncClient) -> None:
        response = await submit(
            client,
            "/admin/login",
            {"email": "nobody@goodloop.org", "password": "whatever it is"},
            page="/admin/login",
        )

        assert response.status_code == 401
        assert form_error(response.text) == "That email and password do not match an admin account."

    async def test_admin_without_a_password_cannot_sign_in(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        api_only = await builders.insert_admin(database)

        response = await submit(
            client, "/admin/login", {"email": api_only.email, "password": ""}, page="/admin/login"
        )

        assert response.status_code == 401

    async def test_disabled_admin_is_refused(self, client: httpx.AsyncClient, database: Database) -> None:
        admin = await helpers.insert_console_admin(database)
        await helpers.disable_admin(database, admin.id)

        response = await submit(
            client, "/admin/login", {"email": admin.email, "password": admin.password}, page="/admin/login"
        )

        assert response.status_code == 403
        assert form_error(response.text) == "This admin account is disabled."
        assert (await client.get("/admin")).status_code == 303

    async def test_admin_disabled_while_signed_in_is_signed_out(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.signed_in_admin(client, database)
        await helpers.disable_admin(database, admin.id)

        response = await client.get("/admin/audit-log")

        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login")

    async def test_too_many_attempts_for_one_email_are_refused(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.insert_console_admin(database)
        token = await helpers.page_token(client)
        statuses = []
        for _ in range(9):
            response = await client.post(
                "/admin/login", data={"csrf_token": token, "email": admin.email, "password": "wrong password"}
            )
            statuses.append(response.status_code)

        assert statuses == [401] * 8 + [429]
        assert "Too many sign-in attempts" in (form_error(response.text) or "")
        assert int(response.headers["Retry-After"]) > 0
        right = await client.post(
            "/admin/login", data={"csrf_token": token, "email": admin.email, "password": admin.password}
        )
        assert right.status_code == 429

    async def test_sign_in_without_csrf_token_is_refused(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.insert_console_admin(database)
        await client.get("/admin/login")

        response = await client.post("/admin/login", data={"email": admin.email, "password": admin.password})

        assert response.status_code == 403
        assert error_code(response.text) == "csrf_failed"
        assert (await client.get("/admin")).status_code == 303

    async def test_sign_in_starts_a_fresh_session(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.insert_console_admin(database)
        before = await helpers.page_token(client)

        await sign_in(client, admin)

        after = await helpers.page_token(client, "/admin")
        assert after != before

    async def test_goes_back_to_the_page_asked_for(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        admin = await helpers.insert_console_admin(database)
        bounced = await client.get("/admin/audit-log?action=nonprofit.verified")
        assert (
            bounced.headers["location"]
            == "/admin/login?next=%2Fadmin%2Faudit-log%3Faction%3Dnonprofit.verified"
        )

        login = await client.get(bounced.headers["location"])
        token = dashboard.csrf_token_in(login.text)
        assert 'name="next" value="/admin/audit-log?action=nonprofit.verified"' in login.text
        response = await client.post(
            "/admin/login",
            data={
                "csrf_token": token,
                "email": admin.email,
                "password": admin.password,
                "next": "/admin/audit-log?action=nonprofit.verified",
            },
        )

        assert response.headers["location"] == "/admin/audit-log?action=nonprofit.verified"

    @pytest.mark.parametrize("target", ["https://evil.example/admin", "//evil.example/admin", "/dashboard"])
    async def test_never_redirects_off_the_console(
        self, client: httpx.AsyncClient, database: Database, target: str
    ) -> None:
        admin = await helpers.insert_console_admin(database)
        token = await helpers.page_token(client)

        response = await client.post(
            "/admin/login",
            data={"csrf_token": token, "email": admin.email, "password": admin.password, "next": target},
        )

        assert response.headers["location"] == "/admin"


class TestSessions:
    @pytest.mark.parametrize("path", CONSOLE_PAGES)
    async def test_signed_out_visitor_is_sent_to_the_login_page(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        response = await client.get(path)

        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login")

    async def test_sign_out_ends_the_session(self, client: httpx.AsyncClient, database: Database) -> None:
        await helpers.signed_in_admin(client, database)

        response = await submit(client, "/admin/logout", page="/admin")

        assert response.status_code == 303
        assert response.headers["location"] == "/admin/login"
        assert (await client.get("/admin")).status_code == 303

    async def test_sign_out_without_csrf_token_is_refused(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await helpers.signed_in_admin(client, database)

        response = await client.post("/admin/logout")

        assert response.status_code == 403
        assert (await client.get("/admin")).status_code == 200

    async def test_a_member_session_is_not_an_admin_session(self, client: httpx.AsyncClient) -> None:
        await dashboard.signed_in_org(client)

        response = await client.get("/admin")

        assert response.status_code == 303

    async def test_an_admin_session_is_not_a_member_session(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await helpers.signed_in_admin(client, database, role=AdminRole.SUPERADMIN)

        assert (await client.get("/dashboard")).status_code == 303


class TestRoleGuard:
    @pytest.mark.parametrize("path", ["/admin/nonprofits", "/admin/campaigns"])
    async def test_finance_cannot_open_reviewer_pages(
        self, client: httpx.AsyncClient, database: Database, path: str
    ) -> None:
        await helpers.signed_in_admin(client, database, role=AdminRole.FINANCE)

        response = await client.get(path)

        assert response.status_code == 403
        assert error_code(response.text) == "admin_role_required"
        assert "Not for your role" in response.text

    @pytest.mark.parametrize(
        ("role", "links"),
        [
            (
                AdminRole.REVIEWER,
                ["overview", "nonprofits", "campaigns", "fundraisers", "matches", "risk", "audit-log"],
            ),
            (
                AdminRole.FINANCE,
                ["overview", "matches", "finance", "payment-mismatches", "risk", "audit-log"],
            ),
            (
                AdminRole.SUPERADMIN,
                [
                    "overview",
                    "nonprofits",
                    "campaigns",
                    "fundraisers",
                    "matches",
                    "finance",
                    "payment-mismatches",
                    "risk",
                    "audit-log",
                ],
            ),
        ],
    )
    async def test_the_nav_offers_the_pages_the_role_may_open(
        self, client: httpx.AsyncClient, database: Database, role: AdminRole, links: list[str]
    ) -> None:
        await helpers.signed_in_admin(client, database, role=role)

        page = (await client.get("/admin")).text

        assert re.findall(r'<a href="/admin[^"]*" id="nav-([a-z-]+)"', page) == links

    async def test_reviewer_cannot_open_the_finance_page(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await helpers.signed_in_admin(client, database, role=AdminRole.REVIEWER)

        response = await client.get("/admin/finance")

        assert response.status_code == 403
        assert error_code(response.text) == "admin_role_required"

    async def test_finance_opens_the_finance_page(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await helpers.signed_in_admin(client, database, role=AdminRole.FINANCE)

        assert (await client.get("/admin/finance")).status_code == 200

    @pytest.mark.parametrize("role", list(AdminRole))
    async def test_every_role_opens_the_overview_and_audit_log(
        self, client: httpx.AsyncClient, database: Database, role: AdminRole
    ) -> None:
        await helpers.signed_in_admin(client, database, role=role)

        for path in ("/admin", "/admin/audit-log"):
            assert (await client.get(path)).status_code == 200, path

    async def test_superadmin_opens_reviewer_pages(
        self, client: httpx.AsyncClient, database: Database
    ) -> None:
        await helpers.signed_in_admin(client, database, role=AdminRole.SUPERADMIN)

        for path in ("/admin/nonprofits", "/admin/campaigns"):
            assert (await client.get(path)).status_code == 200, path


class TestPasswords:
    async def test_short_password_is_refused(self, database: Database) -> None:
        admin = await builders.insert_admin(database)

        with pytest.raises(ValidationFailed) as refused:
            async with database.transaction() as session:
                await set_admin_password(session, email=admin.email, password="short")

        assert refused.value.fields == {"password": "use at least 10 characters"}

    async def test_unknown_admin_is_not_found(self, database: Database) -> None:
        with pytest.raises(NotFound):
            async with database.transaction() as session:
                await set_admin_password(session, email="ghost@goodloop.org", password=helpers.ADMIN_PASSWORD)

    async def test_a_new_password_replaces_the_old_one(self, database: Database) -> None:
        admin = await helpers.insert_console_admin(database)
        async with database.transaction() as session:
            await set_admin_password(session, email=admin.email.upper(), password="a brand new passphrase")

        async with database.transaction() as session:
            assert await authenticate_admin_password(
                session, email=admin.email, password="a brand new passphrase"
            )
        with pytest.raises(Unauthenticated):
            async with database.transaction() as session:
                await authenticate_admin_password(session, email=admin.email, password=admin.password)
