"""The signed-in member's own password: change it, which signs out their other browsers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.dashboard.auth import require_actor, signed_in
from campaigns.dashboard.language import translator
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import Member
from campaigns.nonprofits.passwords import change_member_password
from campaigns.nonprofits.web import SESSION_TOKEN_KEY
from campaigns.notifications import password_resets
from service.errors import ValidationFailed
from service.web.context import database
from service.web.language import ngettext_for, page_language
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

TEMPLATE = "dashboard/password.html"


@signed_in
async def password_page(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
    return render(request, TEMPLATE, {"actor": actor, "errors": {}})


@signed_in
async def change_password(request: Request) -> Response:
    values = form_values(await read_form(request))
    token = request.session.get(SESSION_TOKEN_KEY)
    actor: Actor | None = None
    try:
        async with database(request).transaction() as session:
            actor = await require_actor(request, session)
            ended = await change_member_password(
                session,
                actor=actor,
                current_password=values.get("current_password", ""),
                new_password=values.get("new_password", ""),
                keep_session_token=token if isinstance(token, str) else None,
                now=session.now(),
            )
            member = await session.get(Member, actor.member_id)
            if member is not None:
                await password_resets.confirm_password_changed(session, member=member)
    except ValidationFailed as e:
        return render(request, TEMPLATE, {"actor": actor, "errors": e.fields}, 422)
    flash(request, _changed_message(request, ended))
    return redirect(path_for(request, "dashboard:password"))


def _changed_message(request: Request, ended: int) -> str:
    _ = translator(request)
    if ended == 0:
        return _("Your password is changed.")
    ngettext = ngettext_for(page_language(request))
    return ngettext(
        "Your password is changed, and %(num)s other browser signed in as you is signed out.",
        "Your password is changed, and %(num)s other browsers signed in as you are signed out.",
        ended,
    )


routes = [
    Route("/password", password_page, methods=["GET"], name="password"),
    Route("/password", change_password, methods=["POST"], name="password_change"),
]
