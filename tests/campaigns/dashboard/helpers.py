"""Drive dashboard pages like a browser without JavaScript: fetch a page, read its CSRF token, post."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx

from tests import builders

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CAMPAIGN_FORM_FIELDS = (
    "title",
    "slug",
    "story",
    "currency",
    "goal",
    "suggested_amounts",
    "min_amount",
    "max_amount",
    "starts_at",
    "ends_at",
    "cover_image_url",
    "allowed_embed_origins",
)


def csrf_token_in(page: str) -> str:
    match = _CSRF.search(page)
    assert match is not None, "the page has no CSRF field"
    return html.unescape(match.group(1))


async def csrf_token(client: httpx.AsyncClient, page: str = "/dashboard/login") -> str:
    response = await client.get(page)
    assert response.status_code == 200, response.text
    return csrf_token_in(response.text)


async def submit(
    client: httpx.AsyncClient,
    action: str,
    data: dict[str, str] | None = None,
    *,
    page: str = "/dashboard/login",
) -> httpx.Response:
    """POST a form the way the page would, with the session's current CSRF token."""
    token = await csrf_token(client, page)
    return await client.post(action, data={"csrf_token": token, **(data or {})})


async def log_in(client: httpx.AsyncClient, email: str, password: str = builders.PASSWORD) -> None:
    response = await submit(client, "/dashboard/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard"


async def log_out(client: httpx.AsyncClient) -> None:
    response = await submit(client, "/dashboard/logout", page="/dashboard")
    assert response.status_code == 303


async def signed_in_org(client: httpx.AsyncClient) -> builders.Org:
    org = await builders.sign_up(client)
    await log_in(client, org.email)
    return org


async def add_member(client: httpx.AsyncClient, org: builders.Org, *, role: str) -> str:
    """Invite through the API and accept through the page; leaves the client signed in as the new member."""
    email = f"{role}-{org.id[:8]}@harbor-relief.org"
    response = await client.post(
        "/api/v1/members/invites", json={"email": email, "role": role}, headers=org.headers
    )
    assert response.status_code == 201, response.text
    path = httpx.URL(response.json()["accept_url"]).path
    accepted = await submit(client, path, {"password": builders.PASSWORD}, page=path)
    assert accepted.status_code == 303, accepted.text
    return email


def campaign_form(**overrides: str) -> dict[str, str]:
    values = dict.fromkeys(CAMPAIGN_FORM_FIELDS, "")
    values.update(
        {
            "title": "Winter coats for 300 kids",
            "slug": f"winter-coats-{uuid.uuid4().hex[:8]}",
            "story": "Every child deserves a **warm** coat.",
            "currency": "eur",
            "goal": "5000",
            "suggested_amounts": "10 25 50",
        }
    )
    values.update(overrides)
    return values


async def create_campaign_via_page(client: httpx.AsyncClient, **overrides: str) -> str:
    """Create a campaign through the form; returns its dashboard URL."""
    response = await submit(
        client, "/dashboard/campaigns/new", campaign_form(**overrides), page="/dashboard/campaigns/new"
    )
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    return location


def field_error(page: str, name: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def form_error(page: str) -> str | None:
    match = re.search(r'<p class="form-error" id="form-error" role="alert">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def input_value(page: str, name: str) -> str | None:
    match = re.search(
        rf'<input type="[a-z-]+" id="{re.escape(name)}" name="{re.escape(name)}" value="([^"]*)"', page
    )
    return html.unescape(match.group(1)) if match else None


def textarea_value(page: str, name: str) -> str | None:
    match = re.search(
        rf'<textarea id="{re.escape(name)}" name="{re.escape(name)}"[^>]*>(.*?)</textarea>', page, re.S
    )
    return html.unescape(match.group(1)) if match else None


def error_code(page: str) -> str | None:
    match = re.search(r'data-error="([a-z_]+)"', page)
    return match.group(1) if match else None


def json_of(response: httpx.Response) -> Any:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.json()
