"""Typed, keyword-only builders for test data, going through the real API where it exists."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from service.auth.admins import create_admin
from service.auth.models import AdminRole
from service.db import Database

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Org:
    id: str
    api_key: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@dataclass(frozen=True)
class AdminUser:
    id: uuid.UUID
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def sign_up_payload(**overrides: Any) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    payload: dict[str, Any] = {
        "name": f"Harbor Relief {suffix}",
        "contact_email": f"owner-{suffix}@harbor-relief.org",
        "password": PASSWORD,
        "country": "IE",
        "registration_number": f"CHY {suffix}",
        "website": "https://harbor-relief.org",
    }
    payload.update(overrides)
    return payload


async def sign_up(client: httpx.AsyncClient, **overrides: Any) -> Org:
    payload = sign_up_payload(**overrides)
    response = await client.post("/api/v1/nonprofits", json=payload)
    assert response.status_code == 201, response.text
    body = response.json()
    return Org(id=body["id"], api_key=body["api_key"], email=payload["contact_email"])


async def insert_admin(
    database: Database, *, role: AdminRole = AdminRole.REVIEWER, email: str | None = None
) -> AdminUser:
    async with database.transaction() as session:
        created = await create_admin(
            session, email=email or f"admin-{uuid.uuid4().hex[:8]}@goodloop.org", role=role
        )
    return AdminUser(id=created.admin.id, email=created.admin.email, token=created.token)


async def verify(client: httpx.AsyncClient, admin: AdminUser, org: Org) -> None:
    response = await client.post(f"/api/v1/admin/nonprofits/{org.id}/verify", json={}, headers=admin.headers)
    assert response.status_code == 200, response.text


def campaign_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "Winter coats for 300 kids",
        "slug": f"winter-coats-{uuid.uuid4().hex[:8]}",
        "story": "Every child deserves a **warm** coat.",
        "currency": "eur",
        "goal_minor": 500_000,
        "suggested_amounts_minor": [1000, 2500, 5000],
    }
    payload.update(overrides)
    return payload


async def create_campaign(client: httpx.AsyncClient, org: Org, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/campaigns", json=campaign_payload(**overrides), headers=org.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def live_campaign(
    client: httpx.AsyncClient, org: Org, admin: AdminUser, **overrides: Any
) -> dict[str, Any]:
    """A campaign taken through submit and approval; the org must already be verified."""
    campaign = await create_campaign(client, org, **overrides)
    submitted = await client.post(f"/api/v1/campaigns/{campaign['id']}/submit", headers=org.headers)
    assert submitted.status_code == 200, submitted.text
    approved = await client.post(
        f"/api/v1/admin/campaigns/{campaign['id']}/approve", json={}, headers=admin.headers
    )
    assert approved.status_code == 200, approved.text
    body: dict[str, Any] = approved.json()
    return body
