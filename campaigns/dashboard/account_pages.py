"""Public dashboard pages: a nonprofit signs up, an invited member joins."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.dashboard.auth import start_session
from campaigns.dashboard.language import translator
from campaigns.nonprofits import service as nonprofits
from campaigns.nonprofits.actors import actor_for_member
from campaigns.nonprofits.errors import EmailTaken
from campaigns.nonprofits.models import MemberInvite
from campaigns.nonprofits.schemas import AcceptInviteIn, SignUpIn
from campaigns.nonprofits.web import SIGN_UP_LIMIT
from service.errors import RateLimited, ValidationFailed
from service.web.api import validate
from service.web.context import client_address, database, enforce_rate_limit
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

SIGN_UP_FIELDS = ("name", "contact_email", "password", "country", "registration_number", "website")


async def sign_up_page(request: Request) -> Response:
    return _sign_up_form(request, values={}, errors={})


async def sign_up(request: Request) -> Response:
    values = form_values(await read_form(request))
    fields = {name: values.get(name, "") for name in SIGN_UP_FIELDS}
    try:
        data = validate(SignUpIn, fields)
        # Same allowance as the API, counted after validation like the API does.
        await enforce_rate_limit(request, SIGN_UP_LIMIT, client_address(request))
    except ValidationFailed as e:
        return _sign_up_form(request, values=values, errors=e.fields, status_code=422)
    except RateLimited as e:
        errors = {"form": e.detail}
        response = _sign_up_form(request, values=values, errors=errors, status_code=429)
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    try:
        async with database(request).transaction() as session:
            result = await nonprofits.sign_up(session, data=data)
            actor = await actor_for_member(session, member_id=result.owner.id)
    except EmailTaken as e:
        errors = {"contact_email": e.detail}
        return _sign_up_form(request, values=values, errors=errors, status_code=409)
    await start_session(request, result.owner)
    context = {
        "actor": actor,
        "nonprofit": result.nonprofit,
        "api_key": result.api_key_plaintext,
        "api_key_prefix": result.api_key.prefix,
        # The key is shown once, on the answer to the sign-up POST: the switch goes on to the overview.
        "here": path_for(request, "dashboard:home"),
    }
    return render(request, "dashboard/signed_up.html", context)


def _sign_up_form(
    request: Request, *, values: Mapping[str, str], errors: Mapping[str, str], status_code: int = 200
) -> Response:
    # The password is never sent back into the page.
    kept = {name: value for name, value in values.items() if name != "password"}
    return render(request, "dashboard/signup.html", {"values": kept, "errors": errors}, status_code)


async def invite_page(request: Request) -> Response:
    token: str = request.path_params["token"]
    async with database(request).transaction() as session:
        invite = await nonprofits.find_invite(session, token=token)
        return await _invite_form(request, session, invite, errors={})


async def accept_invite(request: Request) -> Response:
    token: str = request.path_params["token"]
    values = form_values(await read_form(request))
    async with database(request).transaction() as session:
        invite = await nonprofits.find_invite(session, token=token)
        try:
            async with session.begin_nested():
                data = validate(AcceptInviteIn, {"password": values.get("password", "")})
                member = await nonprofits.accept_invite(session, token=token, password=data.password)
        except ValidationFailed as e:
            errors = e.fields
            return await _invite_form(request, session, invite, errors=errors, status_code=422)
        except EmailTaken as e:
            errors = {"form": e.detail}
            return await _invite_form(request, session, invite, errors=errors, status_code=409)
    await start_session(request, member)
    _ = translator(request)
    flash(request, _("Welcome! You are signed in."))
    return redirect(path_for(request, "dashboard:home"))


async def _invite_form(
    request: Request,
    session: AsyncSession,
    invite: MemberInvite,
    *,
    errors: Mapping[str, str],
    status_code: int = 200,
) -> Response:
    nonprofit = await nonprofits.get_nonprofit(session, nonprofit_id=invite.nonprofit_id)
    context = {"invite": invite, "nonprofit": nonprofit, "errors": errors}
    return render(request, "dashboard/invite.html", context, status_code)


site_routes = [
    Route("/signup", sign_up_page, methods=["GET"], name="dashboard:sign_up"),
    Route("/signup", sign_up, methods=["POST"], name="dashboard:sign_up_submit"),
]
routes = [
    Route("/invite/{token}", invite_page, methods=["GET"], name="invite"),
    Route("/invite/{token}", accept_invite, methods=["POST"], name="invite_accept"),
]
