"""The nonprofit's matches: what each is worth, where it stands and why, and the one appeal
it may make against a rejection."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.campaign.models import Campaign
from campaigns.dashboard import campaign_words
from campaigns.dashboard.auth import has_role, require_actor, signed_in
from campaigns.dashboard.language import translator
from campaigns.matching import explain, lifecycle
from campaigns.matching.errors import AppealNotAllowed, MatchNotFound, PoolExhausted
from campaigns.matching.schemas import AppealIn
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service.errors import ValidationFailed
from service.web.api import validate
from service.web.context import database
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

PAGE_SIZE = 100


@signed_in
async def list_matches(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        return await _page(request, session, actor)


@signed_in
async def appeal(request: Request) -> Response:
    match_id: uuid.UUID = request.path_params["match_id"]
    values = form_values(await read_form(request))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        try:
            async with session.begin_nested():
                data = validate(AppealIn, {"message": values.get("message", "").strip()})
                await lifecycle.appeal_match(session, actor=actor, match_id=match_id, message=data.message)
        except ValidationFailed:
            _ = translator(request)
            errors = {str(match_id): _("Tell the reviewers why, in 10 to 2,000 characters.")}
            return await _page(
                request,
                session,
                actor,
                values={str(match_id): values.get("message", "")},
                errors=errors,
                status_code=422,
            )
        except (AppealNotAllowed, PoolExhausted, MatchNotFound) as e:
            return await _page(
                request,
                session,
                actor,
                errors={str(match_id): translator(request)(e.detail)},
                status_code=e.status_code,
            )
    _ = translator(request)
    flash(request, _("Your appeal was sent: the match is back with the reviewers."))
    return redirect(path_for(request, "dashboard:matches"))


async def _page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    matches = await lifecycle.list_matches(
        session,
        status=None,
        program_id=None,
        campaign_id=None,
        limit=PAGE_SIZE,
        cursor=None,
        nonprofit_id=actor.nonprofit_id,
    )
    titles = dict(
        (
            await session.execute(
                sa.select(Campaign.id, Campaign.title).where(Campaign.nonprofit_id == actor.nonprofit_id)
            )
        ).all()
    )
    _ = translator(request)
    rows = [
        {
            "match": m,
            "campaign": titles.get(m.campaign_id, ""),
            "status": campaign_words.match_status(m, _),
            "reason": campaign_words.match_reason(m, _),
            "can_appeal": explain.can_appeal(m),
        }
        for m in reversed(matches[:PAGE_SIZE])
    ]
    context: dict[str, Any] = {
        "actor": actor,
        "rows": rows,
        "can_edit": has_role(actor, MemberRole.EDITOR),
        "values": values or {},
        "errors": errors or {},
    }
    return render(request, "dashboard/matches.html", context, status_code=status_code)


routes = [
    Route("/matches", list_matches, methods=["GET"], name="matches"),
    Route("/matches/{match_id:uuid}/appeal", appeal, methods=["POST"], name="match_appeal"),
]
