"""The signed-in fundraiser's cookie (#15): who may edit a fundraiser page in this browser.

Its own cookie, not the dashboard's session: `gl_fundraiser`, HttpOnly, SameSite=Lax, Secure in
production, scoped to one campaign's manage pages (`/c/{slug}/fundraisers/manage`), so no other
page ever receives it. The value is the random token of a fundraiser session that
campaigns.fundraising opened when a one-time sign-in link was spent; only its digest is stored,
and signing out revokes the row, so a copied cookie opens nothing afterwards.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from service.web.context import settings
from service.web.urls import path_for

COOKIE = "gl_fundraiser"


def _path(request: Request, slug: str) -> str:
    return path_for(request, "giving:fundraiser_manage", slug=slug)


def token(request: Request) -> str | None:
    """The session token this browser holds (sent only to its campaign's manage pages)."""
    return request.cookies.get(COOKIE) or None


def set_cookie(
    request: Request, response: Response, slug: str, session_token: str, lifetime: timedelta
) -> None:
    response.set_cookie(
        COOKIE,
        session_token,
        max_age=int(lifetime.total_seconds()),
        path=_path(request, slug),
        httponly=True,
        secure=settings(request).is_production,
        samesite="lax",
    )


def clear_cookie(request: Request, response: Response, slug: str) -> None:
    response.delete_cookie(
        COOKIE,
        path=_path(request, slug),
        httponly=True,
        secure=settings(request).is_production,
        samesite="lax",
    )
