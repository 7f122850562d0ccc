"""Builders and readers for the donor's path tests."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from service.db import Database
from tests import builders


async def live(client: httpx.AsyncClient, database: Database, **overrides: Any) -> dict[str, Any]:
    """A verified nonprofit's campaign taken live through the real API."""
    org = await builders.sign_up(client)
    admin = await builders.insert_admin(database)
    await builders.verify(client, admin, org)
    campaign = await builders.live_campaign(client, org, admin, **overrides)
    campaign["_org"] = org
    campaign["_admin"] = admin
    return campaign


def form_token_in(page: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', page)
    assert match is not None, "the page has no donate form"
    return html.unescape(match.group(1))


async def donate_form(client: httpx.AsyncClient, slug: str, **fields: str) -> httpx.Response:
    page = await client.get(f"/c/{slug}")
    assert page.status_code == 200, page.text
    data = {"form_token": form_token_in(page.text), "currency": "eur", **fields}
    return await client.post(f"/c/{slug}/donate", data=data)
