"""URLs from route names: every internal link, form action and redirect is built here.

Routes are named `<area>:<name>` (docs/architecture.md, "Routes and URLs"); a path changes in
one place, the route table, and a link to a route that does not exist fails loudly.
"""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request
from starlette.routing import NoMatchFound, Router

from service.settings import Settings


def path_for(request: Request, name: str, /, **params: Any) -> str:
    """The path of route `name`, without scheme and host: pages link relatively, so a page
    reads the same behind any host name or proxy."""
    # The outermost router, also from inside a mounted sub-application (the Stripe sandbox).
    router = cast(Router, request.scope.get("router") or request.app.router)
    root_path = str(request.scope.get("app_root_path", ""))
    return root_path + str(router.url_path_for(name, **params))


def optional_path_for(request: Request, name: str, /, **params: Any) -> str | None:
    """path_for, or None where the app has no such route: the Stripe sandbox's pages share
    Goodloop's layout but are also served on their own, without Goodloop's routes."""
    try:
        return path_for(request, name, **params)
    except NoMatchFound:
        return None


def public_url_for(request: Request, name: str, /, **params: Any) -> str:
    """An absolute link for other sites and Stripe (share links, return URLs): the configured
    public base, never the request's Host header, which a client chooses."""
    base = cast(Settings, request.app.state.settings).public_base_url
    return base + path_for(request, name, **params)
