"""JSON API for nonprofits: sign-up, own organisation, API keys, members and invites."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from campaigns.nonprofits import hooks, service
from campaigns.nonprofits.models import ApiKey, Member
from campaigns.nonprofits.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyList,
    ApiKeyOut,
    InviteIn,
    InviteOut,
    MemberList,
    MemberOut,
    NonprofitOut,
    SignUpIn,
    SignUpOut,
)
from campaigns.nonprofits.web import SIGN_UP_LIMIT, api_actor, invite_url, nonprofit_out
from service.web.api import ApiRoutes, Operation, json_response, parse_json
from service.web.context import client_address, database, enforce_rate_limit


def api_key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut.model_validate(key, from_attributes=True)


def member_out(member: Member) -> MemberOut:
    return MemberOut.model_validate(member, from_attributes=True)


async def sign_up(request: Request) -> Response:
    data = await parse_json(request, SignUpIn)
    await enforce_rate_limit(request, SIGN_UP_LIMIT, client_address(request))
    async with database(request).transaction() as session:
        result = await service.sign_up(session, data=data)
    out = SignUpOut(
        **nonprofit_out(result.nonprofit).model_dump(),
        api_key=result.api_key_plaintext,
        api_key_prefix=result.api_key.prefix,
    )
    return json_response(out, 201)


async def get_me(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        nonprofit = await service.get_own_nonprofit(session, actor=actor)
    return json_response(nonprofit_out(nonprofit))


async def list_api_keys(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        keys = await service.list_api_keys(session, actor=actor)
    return json_response(ApiKeyList(data=[api_key_out(k) for k in keys]))


async def create_api_key(request: Request) -> Response:
    data = await parse_json(request, ApiKeyIn)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        created = await service.create_api_key_as(session, actor=actor, name=data.name)
    out = ApiKeyCreatedOut(**api_key_out(created.api_key).model_dump(), api_key=created.plaintext)
    return json_response(out, 201)


async def revoke_api_key(request: Request) -> Response:
    key_id: uuid.UUID = request.path_params["api_key_id"]
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        key = await service.revoke_api_key(session, actor=actor, api_key_id=key_id)
    return json_response(api_key_out(key))


async def list_members(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        members = await service.list_members(session, actor=actor)
    return json_response(MemberList(data=[member_out(m) for m in members]))


async def invite_member(request: Request) -> Response:
    data = await parse_json(request, InviteIn)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        created = await service.invite_member(session, actor=actor, email=data.email, role=data.role)
        # The link goes to the invitee by email too; a retry with the same Idempotency-Key is
        # answered from the first response and never gets here.
        await hooks.invite_mail().email_invite(
            session, invite=created.invite, token=created.token, key=f"invite:{created.invite.id}"
        )
    invite = created.invite
    out = InviteOut(
        id=invite.id,
        email=invite.email,
        role=invite.role,
        expires_at=invite.expires_at,
        accept_url=invite_url(request, created.token),
    )
    return json_response(out, 201)


def build() -> ApiRoutes:
    api = ApiRoutes()
    tag = "nonprofits"
    api.add(
        sign_up,
        Operation(
            "POST",
            "/nonprofits",
            "Sign up a nonprofit",
            tag,
            body=SignUpIn,
            response=SignUpOut,
            status_code=201,
            auth=None,
            errors=(400, 409, 422, 429),
        ),
    )
    api.add(
        get_me,
        Operation("GET", "/nonprofits/me", "The calling nonprofit", tag, response=NonprofitOut),
    )
    api.add(
        list_api_keys,
        Operation(
            "GET",
            "/api-keys",
            "List API keys",
            tag,
            response=ApiKeyList,
            errors=(401, 403),
        ),
    )
    api.add(
        create_api_key,
        Operation(
            "POST",
            "/api-keys",
            "Create an API key",
            tag,
            body=ApiKeyIn,
            response=ApiKeyCreatedOut,
            status_code=201,
        ),
    )
    api.add(
        revoke_api_key,
        Operation(
            "POST",
            "/api-keys/{api_key_id:uuid}/revoke",
            "Revoke an API key",
            tag,
            response=ApiKeyOut,
        ),
    )
    api.add(
        list_members,
        Operation("GET", "/members", "List members", tag, response=MemberList, errors=(401,)),
    )
    api.add(
        invite_member,
        Operation(
            "POST",
            "/members/invites",
            "Invite a member",
            tag,
            body=InviteIn,
            response=InviteOut,
            status_code=201,
            errors=(400, 401, 403, 409, 422),
        ),
    )
    return api
