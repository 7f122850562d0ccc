"""The hot page's re-render in slices (service.web.pages._Templates.render_in_slices): the same
page as TemplateResponse renders, and the event loop runs other work while it renders."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from campaigns.giving import pages
from service.app import create_app
from service.db import Database
from service.settings import Settings
from service.web import pages as web_pages
from tests.campaigns.giving.helpers import live


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[Starlette]:
    app = create_app(dataclasses.replace(settings, public_page_ttl_s=60.0), database=database)
    async with app.router.lifespan_context(app):
        yield app


def page_request(app: Starlette, slug: str, query: bytes = b"") -> Request:
    scope = {
        "type": "http",
        "app": app,
        "router": app.router,
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("203.0.113.7", 1234),
        "root_path": "",
        "path": f"/c/{slug}",
        "query_string": query,
        "headers": [(b"host", b"testserver")],
        "path_params": {"slug": slug},
    }
    return Request(scope)


async def context_for(request: Request, slug: str) -> dict[str, object]:
    context = await pages.campaign_context(request, slug)
    context["fundraisers"] = None
    return context


@pytest.mark.parametrize("query", [b"", b"lang=nl"], ids=["default", "nl"])
async def test_the_sliced_render_is_the_page_template_response_renders(
    app: Starlette, database: Database, query: bytes
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        slug = (await live(client, database))["slug"]
    request = page_request(app, slug, query)
    context = await context_for(request, slug)

    whole = pages.cacheable_page(request, "giving/campaign.html", dict(context), 200, None)
    sliced = await pages.cacheable_page_in_slices(request, "giving/campaign.html", dict(context), 200, None)

    assert sliced == whole
    assert len(sliced.body) > 1000


async def test_other_requests_run_while_the_page_renders(
    app: Starlette, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        slug = (await live(client, database))["slug"]
    request = page_request(app, slug)
    context = await context_for(request, slug)
    # Every slice as short as can be: the render gives the loop back at its first check.
    monkeypatch.setattr(web_pages, "SLICE_S", 0.0)
    ran: list[str] = []

    async def a_view() -> None:
        ran.append("view")

    view = asyncio.create_task(a_view())
    page = await pages.cacheable_page_in_slices(request, "giving/campaign.html", context, 200, None)

    assert ran == ["view"], "the view waited for the whole render"
    assert page.status_code == 200
    await view
