"""Resolve the acting nonprofit from a request: API key (JSON API) or session (dashboard)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from campaigns.nonprofits.actors import (
    API_KEY_KIND,
    Actor,
    actor_for_api_key,
    actor_for_member,
)
from service.auth import sessions
from service.auth.models import SessionKind
from service.auth.secrets import token_kind
from service.db import utcnow
from service.errors import Unauthenticated
from service.web.context import bearer_token

SESSION_MEMBER_KEY = "member_id"
SESSION_TOKEN_KEY = "sid"  # noqa: S105 - a session key name, not a secret
"""The server-side session's token (service.auth.sessions); the member id alone opens nothing."""


async def api_actor(request: Request, session: AsyncSession) -> Actor:
    token = bearer_token(request)
    if token_kind(token) != API_KEY_KIND:
        raise Unauthenticated("this endpoint takes a nonprofit API key", code="invalid_api_key")
    return await actor_for_api_key(session, token=token)


async def session_actor(request: Request, session: AsyncSession) -> Actor | None:
    raw = request.session.get(SESSION_MEMBER_KEY)
    if not isinstance(raw, str):
        return None
    try:
        member_id = uuid.UUID(raw)
    except ValueError:
        return None
    live = await sessions.resolve_session(
        session, kind=SessionKind.MEMBER, token=request.session.get(SESSION_TOKEN_KEY), now=utcnow()
    )
    # Signed out, or signed out everywhere by a password change: the cookie is only a copy.
    if live is None or live.subject_id != member_id:
        return None
    return await actor_for_member(session, member_id=member_id)
