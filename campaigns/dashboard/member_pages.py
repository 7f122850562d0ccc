"""Dashboard pages for the organisation's people and keys: members, invitations, API keys."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.dashboard.auth import has_role, require_actor, signed_in
from campaigns.dashboard.language import translator
from campaigns.nonprofits import service as nonprofits
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.errors import EmailTaken
from campaigns.nonprofits.models import MemberRole
from campaigns.nonprofits.schemas import ApiKeyIn, InviteIn
from campaigns.nonprofits.web import invite_url
from campaigns.notifications import invites
from service.errors import ValidationFailed
from service.unit_of_work import UnitOfWork
from service.web.api import validate
from service.web.context import database
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

ROLES = [role.value for role in MemberRole]


@signed_in
async def list_members(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        return await _members_page(request, session, actor)


@signed_in
async def invite_member(request: Request) -> Response:
    values = form_values(await read_form(request))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        actor.require(MemberRole.OWNER)
        try:
            async with session.begin_nested():
                data = validate(InviteIn, {"email": values.get("email", ""), "role": values.get("role", "")})
                created = await nonprofits.invite_member(
                    session, actor=actor, email=data.email, role=data.role
                )
                key = invites.form_key(
                    actor.nonprofit_id,
                    values.get("submission", ""),
                    target=invites.new_invite_target(data.email, data.role),
                    fallback=f"invite:{created.invite.id}",
                )
                sent = await invites.email_invite(
                    session, invite=created.invite, token=created.token, key=key
                )
                if not sent:
                    raise AlreadySent
        except AlreadySent:
            # A double submit: the first request made the invitation and sent it; this one rolled back.
            _ = translator(request)
            notice = _("The invitation to %(email)s is sent by email.", email=values.get("email", "").strip())
            return await _members_page(request, session, actor, notice=notice)
        except ValidationFailed as e:
            errors = e.fields
            return await _members_page(request, session, actor, values=values, errors=errors, status_code=422)
        except EmailTaken as e:
            errors = {"email": e.detail}
            return await _members_page(request, session, actor, values=values, errors=errors, status_code=409)
        return await _members_page(request, session, actor, invite=_shown(request, created))


class AlreadySent(Exception):
    """This form's submission already sent its email: roll this one back."""


def _shown(request: Request, created: nonprofits.CreatedInvite) -> dict[str, str]:
    return {
        "email": created.invite.email,
        "role": created.invite.role.value,
        "url": invite_url(request, created.token),
    }


@signed_in
async def resend_invite(request: Request) -> Response:
    invite_id: uuid.UUID = request.path_params["invite_id"]
    values = form_values(await read_form(request))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        try:
            async with session.begin_nested():
                created, sent = await invites.resend_invite(
                    session, actor=actor, invite_id=invite_id, submission=values.get("submission", "")
                )
                if not sent:
                    raise AlreadySent
        except AlreadySent:
            _ = translator(request)
            notice = _("The invitation is sent again by email.")
            return await _members_page(request, session, actor, notice=notice)
        return await _members_page(request, session, actor, invite=_shown(request, created))


async def _members_page(
    request: Request,
    session: UnitOfWork,
    actor: Actor,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    invite: Mapping[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    is_owner = has_role(actor, MemberRole.OWNER)
    context: dict[str, Any] = {
        "actor": actor,
        "members": await nonprofits.list_members(session, actor=actor),
        "open_invites": await invites.open_invites(session, actor=actor) if is_owner else [],
        "now": session.now(),
        "submission": invites.new_submission(),
        "notice": notice,
        "is_owner": is_owner,
        "roles": ROLES,
        "values": values or {"role": MemberRole.EDITOR.value},
        "errors": errors or {},
        "invite": invite,
        # Invitations are POSTed to addresses without a page: the language switch links here.
        "here": path_for(request, "dashboard:members"),
    }
    return render(request, "dashboard/members.html", context, status_code)


@signed_in
async def list_api_keys(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        return await _api_keys_page(request, session, actor)


@signed_in
async def create_api_key(request: Request) -> Response:
    values = form_values(await read_form(request))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        actor.require(MemberRole.OWNER)
        try:
            data = validate(ApiKeyIn, {"name": values.get("name", "").strip()})
        except ValidationFailed as e:
            errors = e.fields
            return await _api_keys_page(
                request, session, actor, values=values, errors=errors, status_code=422
            )
        created = await nonprofits.create_api_key_as(session, actor=actor, name=data.name)
        return await _api_keys_page(request, session, actor, created=created.plaintext)


@signed_in
async def revoke_api_key(request: Request) -> Response:
    api_key_id: uuid.UUID = request.path_params["api_key_id"]
    await read_form(request)
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        key = await nonprofits.revoke_api_key(session, actor=actor, api_key_id=api_key_id)
    _ = translator(request)
    flash(
        request,
        _("The key %(prefix)s… is revoked; requests with it are refused from now on.", prefix=key.prefix),
    )
    return redirect(path_for(request, "dashboard:api_keys"))


async def _api_keys_page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    created: str | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "actor": actor,
        "keys": await nonprofits.list_api_keys(session, actor=actor),
        "values": values or {},
        "errors": errors or {},
        "created": created,
    }
    return render(request, "dashboard/api_keys.html", context, status_code)


routes = [
    Route("/members", list_members, methods=["GET"], name="members"),
    Route("/members/invite", invite_member, methods=["POST"], name="member_invite"),
    Route(
        "/members/invites/{invite_id:uuid}/resend",
        resend_invite,
        methods=["POST"],
        name="member_invite_resend",
    ),
    Route("/api-keys", list_api_keys, methods=["GET"], name="api_keys"),
    Route("/api-keys", create_api_key, methods=["POST"], name="api_key_create"),
    Route("/api-keys/{api_key_id:uuid}/revoke", revoke_api_key, methods=["POST"], name="api_key_revoke"),
]
