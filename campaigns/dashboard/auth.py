"""Dashboard sessions: log in, log out, and the guard every dashboard page uses."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.errors import RoleRequired
from campaigns.nonprofits.models import Member, MemberRole
from campaigns.nonprofits.web import SESSION_MEMBER_KEY, session_actor
from service.errors import DomainError
from service.ratelimit import Limit

LOGIN_LIMIT_PER_CLIENT = Limit(
    name="login_client",
    max_hits=20,
    window=timedelta(minutes=15),
    message="too many sign-in attempts from this network; wait a few minutes and try again",
)
LOGIN_LIMIT_PER_EMAIL = Limit(
    name="login_email",
    max_hits=8,
    window=timedelta(minutes=15),
    message="too many sign-in attempts for this account; wait a few minutes and try again",
)


class LoginRequired(DomainError):
    code = "login_required"
    status_code = 401


def start_session(request: Request, member: Member) -> None:
    # A fresh session on login: nothing an attacker planted before survives (session fixation).
    request.session.clear()
    request.session[SESSION_MEMBER_KEY] = str(member.id)


def end_session(request: Request) -> None:
    request.session.clear()


async def require_actor(request: Request, session: AsyncSession) -> Actor:
    actor = await session_actor(request, session)
    if actor is None:
        raise LoginRequired("please sign in")
    return actor


LOGIN_URL = "/dashboard/login"
Endpoint = Callable[[Request], Awaitable[Response]]


def signed_in(endpoint: Endpoint) -> Endpoint:
    """Send a visitor who is not signed in to the login page instead of an error page."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except LoginRequired:
            return RedirectResponse(LOGIN_URL, status_code=303)

    return guarded


def has_role(actor: Actor, role: MemberRole) -> bool:
    """Whether to show a control at all; the service still checks when it is used."""
    try:
        actor.require(role)
    except RoleRequired:
        return False
    return True
