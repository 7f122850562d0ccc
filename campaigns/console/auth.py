"""Console sessions: admin sign-in state, and the guard every console page uses.

The admin id lives under its own session key, never the member one, so a member's session
can never be read as an admin's (and the dashboard guard never sees an admin).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from service.auth import sessions
from service.auth.admins import get_admin, require_role
from service.auth.models import Admin, AdminRole, SessionKind
from service.errors import Forbidden
from service.unit_of_work import UnitOfWork
from service.web.context import database, settings
from service.web.pages import render
from service.web.sign_in import sign_in_guard
from service.web.urls import path_for

SESSION_ADMIN_KEY = "admin_id"
SESSION_TOKEN_KEY = "sid"  # noqa: S105 - a session key name, not a secret
"""The server-side session's token (service.auth.sessions); the admin id alone opens nothing."""
PREFIX = "/admin"
"""Where the console is mounted (service.app); its routes are named `console:<name>`."""

SIGN_IN = sign_in_guard(area="console", limit_prefix="admin_", cookie_name="gl_known_admin", path=PREFIX)
"""A browser that signed in to the admin account before has its own allowance: failures from
elsewhere never lock the admin out of it (service.auth.known_browsers)."""


@dataclass(frozen=True)
class NavItem:
    route: str
    label: str
    id: str
    roles: tuple[AdminRole, ...] = ()
    """Who may open it (superadmins always); empty means every admin."""


# The pages' own guards decide; the nav only leaves out links that would answer 403.
NAV = (
    NavItem("console:overview", "Overview", "overview"),
    NavItem("console:nonprofits", "Nonprofits", "nonprofits", (AdminRole.REVIEWER,)),
    NavItem("console:campaigns", "Campaigns", "campaigns", (AdminRole.REVIEWER,)),
    NavItem("console:fundraisers", "Fundraisers", "fundraisers", (AdminRole.REVIEWER,)),
    NavItem("console:matches", "Matches", "matches"),
    NavItem("console:finance", "Finance", "finance", (AdminRole.FINANCE,)),
    NavItem("console:payment_mismatches", "Mismatches", "payment-mismatches", (AdminRole.FINANCE,)),
    NavItem("console:risk", "Risk", "risk"),
    NavItem("console:audit_log", "Audit log", "audit-log"),
)


def nav_for(admin: Admin) -> list[NavItem]:
    return [item for item in NAV if not item.roles or has_role(admin, *item.roles)]


AdminEndpoint = Callable[[Request, Admin], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


async def start_admin_session(request: Request, admin: Admin) -> None:
    """A server-side session row, and a fresh cookie pointing at it.

    Nothing planted in the cookie before survives (session fixation).
    """
    async with database(request).transaction() as session:
        opened = await sessions.open_session(
            session, kind=SessionKind.ADMIN, subject_id=admin.id, now=session.now()
        )
    request.session.clear()
    request.session[SESSION_ADMIN_KEY] = str(admin.id)
    request.session[SESSION_TOKEN_KEY] = opened.token


async def end_admin_session(request: Request) -> None:
    """Revoke the session on the server first: a copy of the cookie must open nothing after."""
    async with database(request).transaction() as session:
        await sessions.revoke_session(
            session, kind=SessionKind.ADMIN, token=request.session.get(SESSION_TOKEN_KEY), now=session.now()
        )
    request.session.clear()


async def current_admin(request: Request, session: UnitOfWork) -> Admin | None:
    """The signed-in admin, or None: signed out, idle past the timeout, or disabled since."""
    raw = request.session.get(SESSION_ADMIN_KEY)
    if not isinstance(raw, str):
        return None
    try:
        admin_id = uuid.UUID(raw)
    except ValueError:
        return None
    live = await sessions.resolve_session(
        session,
        kind=SessionKind.ADMIN,
        token=request.session.get(SESSION_TOKEN_KEY),
        now=session.now(),
        idle_timeout=settings(request).admin_idle_timeout,
    )
    if live is None or live.subject_id != admin_id:
        return None
    admin = await get_admin(session, admin_id)
    if admin is None or admin.disabled_at is not None:
        return None
    return admin


def admin_page(*roles: AdminRole) -> Callable[[AdminEndpoint], Endpoint]:
    """Guard a console page: signed out -> the login page; wrong role -> a 403 page.

    With no roles any signed-in admin may open it; superadmins may open everything. The
    handler gets the admin (loaded in a short transaction of its own) and opens its own
    transaction for the work. `request.state.admin` is set for the layout.
    """

    def decorate(endpoint: AdminEndpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            async with database(request).transaction() as session:
                admin = await current_admin(request, session)
            if admin is None:
                if SESSION_ADMIN_KEY in request.session:
                    # Already over on the server (or never was): only the cookie is left.
                    request.session.clear()
                return RedirectResponse(login_url(request), status_code=303)
            request.state.admin = admin
            request.state.nav = nav_for(admin)
            if roles:
                try:
                    require_role(admin, *roles)
                except Forbidden as e:
                    return render(
                        request, "console/forbidden.html", {"admin": admin, "error": e}, 403, language="en"
                    )
            return await endpoint(request, admin)

        return guarded

    return decorate


def login_url(request: Request) -> str:
    """The login page, coming back here afterwards (GET pages only: a POST cannot be replayed)."""
    login = path_for(request, "console:login")
    if request.method != "GET" or request.url.path == path_for(request, "console:overview"):
        return login
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{login}?next={quote(target, safe='')}"


def safe_next(request: Request, target: str | None) -> str:
    """Only a console path of ours: never another host (an open redirect after sign-in)."""
    if not target or not target.startswith(PREFIX) or target.startswith("//") or "\\" in target:
        return path_for(request, "console:overview")
    return target


def has_role(admin: Admin, *roles: AdminRole) -> bool:
    """Whether to show a control at all; the page and the service still check when it is used."""
    try:
        require_role(admin, *roles)
    except Forbidden:
        return False
    return True
