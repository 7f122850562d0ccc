"""Dashboard sessions: log in, log out, and the guard every dashboard page uses."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.errors import RoleRequired
from campaigns.nonprofits.models import Member, MemberRole
from campaigns.nonprofits.web import SESSION_MEMBER_KEY, SESSION_TOKEN_KEY, session_actor
from service.auth import sessions
from service.auth.models import SessionKind
from service.errors import DomainError
from service.unit_of_work import UnitOfWork
from service.web.context import database
from service.web.sign_in import sign_in_guard
from service.web.urls import path_for

PREFIX = "/dashboard"
"""Where the dashboard is mounted (service.app); its routes are named `dashboard:<name>`."""

SIGN_IN = sign_in_guard(area="dashboard", limit_prefix="", cookie_name="gl_known_member", path=PREFIX)
"""A browser that signed in to the account before has its own allowance, so failures from
elsewhere (someone guessing, or locking the owner out on purpose) never keep the owner out."""


class LoginRequired(DomainError):
    code = "login_required"
    status_code = 401


async def start_session(request: Request, member: Member) -> None:
    """A server-side session row, and a fresh cookie pointing at it.

    Nothing an attacker planted in the cookie before survives (session fixation).
    """
    async with database(request).transaction() as session:
        opened = await sessions.open_session(
            session, kind=SessionKind.MEMBER, subject_id=member.id, now=session.now()
        )
    request.session.clear()
    request.session[SESSION_MEMBER_KEY] = str(member.id)
    request.session[SESSION_TOKEN_KEY] = opened.token


async def end_session(request: Request) -> None:
    """Revoke the session on the server first: a copy of the cookie must open nothing after."""
    async with database(request).transaction() as session:
        await sessions.revoke_session(
            session, kind=SessionKind.MEMBER, token=request.session.get(SESSION_TOKEN_KEY), now=session.now()
        )
    request.session.clear()


async def require_actor(request: Request, session: UnitOfWork) -> Actor:
    actor = await session_actor(request, session)
    if actor is None:
        raise LoginRequired("please sign in")
    return actor


Endpoint = Callable[[Request], Awaitable[Response]]


def signed_in(endpoint: Endpoint) -> Endpoint:
    """Send a visitor who is not signed in to the login page instead of an error page."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except LoginRequired:
            return RedirectResponse(path_for(request, "dashboard:login"), status_code=303)

    return guarded


def has_role(actor: Actor, role: MemberRole) -> bool:
    """Whether to show a control at all; the service still checks when it is used."""
    try:
        actor.require(role)
    except RoleRequired:
        return False
    return True
