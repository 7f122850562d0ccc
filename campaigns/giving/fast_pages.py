"""The campaign page on the fast path (service/web/fast_path.py): served from the page cache
before the router, built by the same functions as the normal path (campaigns/giving/pages.py).

`campaign_page` in pages.py is get_or_render, then count the view, then the per-visitor part
(`_for_visitor`: device cookie, Cache-Control). Here the cache is only peeked at: a page that
is not cached, expired, or due for its re-render goes the normal way, which renders it. The
rest is the very same calls, so both paths answer the same bytes
(tests/campaigns/giving/test_fast_path.py compares them).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.giving import pages
from service.web.context import page_cache
from service.web.fast_path import FastRoute


async def cached_campaign_page(request: Request) -> Response | None:
    slug: str = request.path_params["slug"]
    page = page_cache(request).peek(("campaign", slug))
    if page is None:
        return None
    pages._count_view(request, slug)
    return pages._for_visitor(request, page)


def _route(name: str) -> Route:
    found = [route for route in pages.routes if isinstance(route, Route) and route.name == name]
    assert len(found) == 1, f"no single route named {name}"
    return found[0]


FAST_ROUTES = (FastRoute(route=_route("giving:campaign"), respond=cached_campaign_page),)
