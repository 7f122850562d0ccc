"""Drive the admin console like a browser without JavaScript."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from service.auth.admins import create_admin, set_admin_password
from service.auth.models import AdminRole
from service.db import Database, utcnow
from tests import builders
from tests.campaigns.dashboard.helpers import csrf_token_in

ADMIN_PASSWORD = "staple battery horse correct"


@dataclass(frozen=True)
class ConsoleAdmin:
    id: uuid.UUID
    email: str
    token: str
    password: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def api(self) -> builders.AdminUser:
        return builders.AdminUser(id=self.id, email=self.email, token=self.token)


async def insert_console_admin(
    database: Database, *, role: AdminRole = AdminRole.REVIEWER, email: str | None = None
) -> ConsoleAdmin:
    address = email or f"{role.value}-{uuid.uuid4().hex[:8]}@goodloop.org"
    async with database.transaction() as session:
        created = await create_admin(session, email=address, role=role)
        await set_admin_password(session, email=address, password=ADMIN_PASSWORD)
    return ConsoleAdmin(
        id=created.admin.id, email=created.admin.email, token=created.token, password=ADMIN_PASSWORD
    )


async def disable_admin(database: Database, admin_id: uuid.UUID) -> None:
    from service.auth.models import Admin

    async with database.transaction() as session:
        admin = await session.get(Admin, admin_id)
        assert admin is not None
        admin.disabled_at = utcnow()


async def page_token(client: httpx.AsyncClient, page: str = "/admin/login") -> str:
    # Someone already signed in is sent on from the login page; every console page has a token.
    response = await client.get(page, follow_redirects=True)
    assert response.status_code == 200, response.text
    return csrf_token_in(response.text)


async def submit(
    client: httpx.AsyncClient, action: str, data: dict[str, str] | None = None, *, page: str
) -> httpx.Response:
    """POST a form the way the page would, with the session's current CSRF token."""
    token = await page_token(client, page)
    return await client.post(action, data={"csrf_token": token, **(data or {})})


async def sign_in(client: httpx.AsyncClient, admin: ConsoleAdmin) -> None:
    response = await submit(
        client, "/admin/login", {"email": admin.email, "password": admin.password}, page="/admin/login"
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin"


async def signed_in_admin(
    client: httpx.AsyncClient, database: Database, *, role: AdminRole = AdminRole.REVIEWER
) -> ConsoleAdmin:
    admin = await insert_console_admin(database, role=role)
    await sign_in(client, admin)
    return admin
