"""The nonprofit's side of the web, shared by every package's routes and pages: resolve the
acting nonprofit from a request (API key for the JSON API, session for the dashboard), show a
nonprofit as the API does, the invite link, the sign-up limit the API and the dashboard share.

Here, not in nonprofits' routes, so no route module imports another's (docs/architecture.md,
"Routes and URLs")."""

from __future__ import annotations

import uuid
from datetime import timedelta

from starlette.requests import Request

from campaigns.nonprofits.actors import (
    API_KEY_KIND,
    Actor,
    actor_for_api_key,
    actor_for_member,
)
from campaigns.nonprofits.models import Nonprofit
from campaigns.nonprofits.schemas import NonprofitOut
from service.auth import sessions
from service.auth.models import SessionKind
from service.auth.secrets import token_kind
from service.errors import Unauthenticated
from service.ratelimit import Limit
from service.unit_of_work import UnitOfWork
from service.web.context import bearer_token
from service.web.urls import public_url_for

SESSION_MEMBER_KEY = "member_id"
SESSION_TOKEN_KEY = "sid"  # noqa: S105 - a session key name, not a secret
"""The server-side session's token (service.auth.sessions); the member id alone opens nothing."""

SIGN_UP_LIMIT = Limit(
    name="sign_up",
    max_hits=10,
    window=timedelta(hours=1),
    message="too many sign-ups from this network; try again in an hour",
)
"""One allowance per network for the API's and the dashboard's sign-up together."""


def nonprofit_out(nonprofit: Nonprofit) -> NonprofitOut:
    return NonprofitOut.model_validate(nonprofit, from_attributes=True)


def invite_url(request: Request, token: str) -> str:
    """The link an invited member opens, sent by email: absolute, on the public base URL."""
    return public_url_for(request, "dashboard:invite", token=token)


async def api_actor(request: Request, session: UnitOfWork) -> Actor:
    token = bearer_token(request)
    if token_kind(token) != API_KEY_KIND:
        raise Unauthenticated("this endpoint takes a nonprofit API key", code="invalid_api_key")
    return await actor_for_api_key(session, token=token)


async def session_actor(request: Request, session: UnitOfWork) -> Actor | None:
    raw = request.session.get(SESSION_MEMBER_KEY)
    if not isinstance(raw, str):
        return None
    try:
        member_id = uuid.UUID(raw)
    except ValueError:
        return None
    live = await sessions.resolve_session(
        session, kind=SessionKind.MEMBER, token=request.session.get(SESSION_TOKEN_KEY), now=session.now()
    )
    # Signed out, or signed out everywhere by a password change: the cookie is only a copy.
    if live is None or live.subject_id != member_id:
        return None
    return await actor_for_member(session, member_id=member_id)
