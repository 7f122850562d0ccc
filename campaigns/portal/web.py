"""The portal's HTTP surface: the donor's language and the donor session cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from campaigns.portal import signin
from service import i18n
from service.web.context import settings

COOKIE = "gl_donor"
"""The donor session's own cookie (not the dashboard's): HttpOnly, SameSite=Lax, Secure in
production, scoped to /donor and no longer lived than the session row it points at."""
COOKIE_PATH = "/donor"


def language(request: Request) -> str:
    """`?lang=nl|en` first, then the browser's Accept-Language."""
    return i18n.normalise(request.query_params.get("lang")) or i18n.negotiate(
        request.headers.get("accept-language")
    )


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(signin.SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        secure=settings(request).is_production,
        samesite="lax",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path=COOKIE_PATH, httponly=True, secure=settings(request).is_production, samesite="lax"
    )
