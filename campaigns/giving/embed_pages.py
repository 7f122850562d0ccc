"""The embed: the donate form inside other sites' pages, and the script that puts it there.

The embed page is the one page of ours that other origins may frame, and only the origins the
campaign lists (`frame-ancestors` in its Content-Security-Policy). The rest of the donor's
pages live in `campaigns/giving/pages.py`; the embed shares their rendering and caching.
embed.js asks `/embed/{slug}/origins` before it builds a frame, so a site the campaign does not
list gets a clear message instead of a broken frame (campaigns/giving/embedding.py).
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from campaigns.campaign.errors import CampaignNotFound
from campaigns.giving import languages
from campaigns.giving.embedding import embed_origins
from campaigns.giving.pages import (
    PUBLIC_CACHE,
    cacheable_page,
    campaign_context,
    count_view,
    for_visitor,
)
from service.web.api import error_response
from service.web.context import database, page_cache
from service.web.microcache import CachedPage
from service.web.pages import STATIC_DIR
from service.web.urls import public_url_for


async def embed_page(request: Request) -> Response:
    slug: str = request.path_params["slug"]

    async def render() -> CachedPage:
        context = await campaign_context(request, slug)
        origins = context["campaign"].allowed_embed_origins
        ancestors = " ".join(origins) if origins else "'none'"
        return cacheable_page(request, "giving/embed.html", context, 200, ancestors)

    page = await page_cache(request).get_or_render(("embed", slug, languages.requested(request)), render)
    count_view(request, slug)
    return for_visitor(request, page, shared=True)


async def embed_script(request: Request) -> Response:
    return FileResponse(
        STATIC_DIR / "embed.js",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"},
    )


async def embed_origins_json(request: Request) -> Response:
    """The same for every visitor and every host site (the origins are public anyway: they are
    the embed's frame-ancestors), so one cached answer serves a viral campaign's every embed."""
    slug: str = request.path_params["slug"]

    async def render() -> CachedPage:
        async with database(request).transaction() as session:
            origins = await embed_origins(session, slug=slug)
        body = {
            "allowed_origins": origins,
            "campaign_url": public_url_for(request, "giving:campaign", slug=slug),
        }
        headers = {
            "Content-Type": "application/json",
            "Cache-Control": PUBLIC_CACHE,
            # Host pages on any origin read it with fetch (no credentials, nothing private).
            "Access-Control-Allow-Origin": "*",
        }
        return CachedPage(json.dumps(body).encode(), 200, tuple(headers.items()))

    try:
        page = await page_cache(request).get_or_render(("embed-origins", slug), render)
    except CampaignNotFound as e:
        refused = error_response(e)
        refused.headers["Access-Control-Allow-Origin"] = "*"
        return refused
    response = Response(page.body, status_code=page.status_code)
    response.raw_headers += page.raw_headers
    return response


routes = [
    Route("/embed/{slug:str}", embed_page, methods=["GET"], name="giving:embed"),
    Route("/embed/{slug:str}/origins", embed_origins_json, methods=["GET"], name="giving:embed_origins"),
    Route("/embed.js", embed_script, methods=["GET"], name="giving:embed_script"),
]
