"""The portal's HTTP surface: the donor's language and the donor session cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from campaigns.portal import signin
from service.web.context import settings
from service.web.language import page_language

COOKIE = "gl_donor"
"""The donor session's own cookie (not the dashboard's): HttpOnly, SameSite=Lax, Secure in
production, scoped to /donor and no longer lived than the session row it points at."""
COOKIE_PATH = "/donor"


def language(request: Request) -> str:
    """The shared rule (service.web.language): `?lang=nl|en` (remembered in the `gl_lang` cookie
    by every portal page), the cookie, the browser's Accept-Language, else English."""
    return page_language(request)


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
