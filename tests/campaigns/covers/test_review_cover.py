"""Moderators see the uploaded cover and its alt text before they approve a campaign: what
donors will see is what is approved."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from service.db import Database
from tests import builders
from tests.campaigns.covers import images
from tests.console import helpers

ALT = "Two volunteers sorting coats"


@pytest.fixture
async def member_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.21", 50002))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_the_review_queue_shows_the_uploaded_cover(
    client: httpx.AsyncClient, member_client: httpx.AsyncClient, database: Database
) -> None:
    org = await builders.sign_up(member_client)
    admin = await builders.insert_admin(database)
    await builders.verify(member_client, admin, org)
    campaign = await builders.create_campaign(member_client, org)
    put = await member_client.put(
        f"/api/v1/campaigns/{campaign['id']}/cover",
        files={"image": ("c.png", images.photo("PNG", size=(1000, 500)), "image/png")},
        data={"alt": ALT},
        headers=org.headers,
    )
    assert put.status_code == 200
    submitted = await member_client.post(f"/api/v1/campaigns/{campaign['id']}/submit", headers=org.headers)
    assert submitted.status_code == 200
    await helpers.signed_in_admin(client, database)

    page = (await client.get("/admin/campaigns")).text

    shown = re.search(rf'id="review-cover-{campaign["id"]}"><img src="([^"]+)" alt="([^"]+)"', page)
    assert shown is not None
    assert shown.group(2) == ALT
    image = await client.get(shown.group(1))
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
