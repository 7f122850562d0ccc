"""Absolute links for emails, built from route names outside any request.

An email is composed inside a use case (a webhook handler, a fact listener, a worker job),
where there is no request to build a URL from. The process that assembles the routes
(`service.app.create_app`, which the worker and the CLI go through too) registers its router
and the public base URL here once; templates then call `url('area:name', **params)`, which
is `PUBLIC_BASE_URL` plus the route's path, never a Host header a client chose
(docs/architecture.md, "Routes and URLs").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.routing import Router


class LinksNotConfigured(RuntimeError):
    """An email asked for a link before the process registered its routes (a bug in assembly)."""


@dataclass(frozen=True)
class _Links:
    base: str
    router: Router


_links: _Links | None = None


def configure(*, public_base_url: str, router: Router) -> None:
    """Called by the app factory: links in emails point at `public_base_url`."""
    global _links
    _links = _Links(public_base_url.rstrip("/"), router)


def url(name: str, /, **params: Any) -> str:
    """The absolute URL of route `name` (e.g. `giving:campaign`, slug=...)."""
    if _links is None:
        raise LinksNotConfigured("service.mail.links.configure() was not called")
    return _links.base + str(_links.router.url_path_for(name, **params))


def absolute(path: str) -> str:
    """`path` (starting with /) under the public base URL."""
    if _links is None:
        raise LinksNotConfigured("service.mail.links.configure() was not called")
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError("absolute() takes a path on this site, starting with one /")
    return _links.base + path
