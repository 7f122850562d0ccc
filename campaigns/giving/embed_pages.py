"""The embed: the donate form inside other sites' pages, and the script that puts it there.

The embed page is the one page of ours that other origins may frame, and only the origins the
campaign lists (`frame-ancestors` in its Content-Security-Policy). The rest of the donor's
pages live in `campaigns/giving/pages.py`; the embed shares their rendering and caching.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from campaigns.giving.pages import _campaign_context, _count_view, _for_visitor, _page
from service.web.context import page_cache
from service.web.microcache import CachedPage
from service.web.pages import STATIC_DIR


async def embed_page(request: Request) -> Response:
    slug: str = request.path_params["slug"]

    async def render() -> CachedPage:
        context = await _campaign_context(request, slug)
        origins = context["campaign"].allowed_embed_origins
        ancestors = " ".join(origins) if origins else "'none'"
        return _page(request, "giving/embed.html", context, 200, ancestors)

    page = await page_cache(request).get_or_render(("embed", slug), render)
    _count_view(request, slug)
    return _for_visitor(request, page)


async def embed_script(request: Request) -> Response:
    return FileResponse(
        STATIC_DIR / "embed.js",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"},
    )


routes = [
    Route("/embed/{slug:str}", embed_page, methods=["GET"], name="giving:embed"),
    Route("/embed.js", embed_script, methods=["GET"], name="giving:embed_script"),
]
