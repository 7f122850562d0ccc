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
from service.auth.secrets import token_kind
from service.errors import Unauthenticated
from service.web.context import bearer_token

SESSION_MEMBER_KEY = "member_id"


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
    return await actor_for_member(session, member_id=member_id)
