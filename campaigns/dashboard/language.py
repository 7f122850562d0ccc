"""The dashboard's words in the reader's language (docs/architecture.md "Languages").

Templates translate themselves (service.web.pages.render gives them the page's language). What
Python says to a member, flash messages and errors next to a field or above a form, is
translated here at the edge, in the language the page is read in:

- `translator(request)`: gettext for this request's page language, `_("Saved %(n)s", n=3)`.

Errors next to a field need nothing here: service.web.pages translates a page's `errors` into
its language (service/web/messages.py); the sentences lower packages refuse with that are not
marked there (a sign-in limit, an address already taken) have their Dutch in this part's
catalog, dashboard_account.po.

The member's own language: `saved_language` reads the language a member chose for their emails
(the Notifications page); `keep_saved_language` makes a fresh browser open the dashboard in it
(see campaigns.dashboard.routes.login).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from campaigns.nonprofits.models import Member
from campaigns.notifications.models import MemberNotificationSettings
from service import i18n
from service.web.language import COOKIE, COOKIE_MAX_AGE, QUERY_PARAMETER, gettext_for, page_language


def translator(request: Request) -> Callable[..., str]:
    return gettext_for(page_language(request))


async def saved_language(session: AsyncSession, member: Member) -> str | None:
    """The language the member chose on the Notifications page, or None if they never chose.

    Only a choice counts: the default (the organisation's country's language) must not beat
    what the browser asks for.
    """
    chosen = await session.get(MemberNotificationSettings, member.id)
    return i18n.normalise(chosen.language) if chosen is not None else None


def keep_saved_language(request: Request, response: Response, language: str | None) -> None:
    """Open the dashboard in the member's saved language on a browser that has not chosen one.

    The shared rule (service.web.language) puts `?lang=` and the `gl_lang` cookie first: a
    browser that chose stays as it chose, and a switch made later overrides this cookie.
    """
    if language is None or request.query_params.get(QUERY_PARAMETER) or request.cookies.get(COOKIE):
        return
    secure = request.url.scheme == "https"
    response.set_cookie(COOKIE, language, max_age=COOKIE_MAX_AGE, path="/", samesite="lax", secure=secure)
