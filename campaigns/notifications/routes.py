"""JSON API: members' notification settings and resending an invitation (an owner's API key)."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from campaigns.nonprofits.schemas import InviteOut
from campaigns.nonprofits.web import api_actor, invite_url
from campaigns.notifications import invites, preferences
from campaigns.notifications.schemas import NotificationSettingsIn, NotificationSettingsOut
from service.web.api import ApiRoutes, Operation, json_response, parse_json
from service.web.context import database


def settings_out(member_id: uuid.UUID, prefs: preferences.Preferences) -> NotificationSettingsOut:
    return NotificationSettingsOut(
        member_id=str(member_id),
        gift_emails=prefs.gift_emails,
        money_emails=prefs.money_emails,
        language="nl" if prefs.language == "nl" else "en",
        chosen=prefs.chosen,
    )


async def get_member_notifications(request: Request) -> Response:
    member_id: uuid.UUID = request.path_params["member_id"]
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        prefs = await preferences.get_preferences(session, actor=actor, member_id=member_id)
    return json_response(settings_out(member_id, prefs))


async def set_member_notifications(request: Request) -> Response:
    member_id: uuid.UUID = request.path_params["member_id"]
    data = await parse_json(request, NotificationSettingsIn)
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        prefs = await preferences.save_preferences(
            session,
            actor=actor,
            member_id=member_id,
            gift_emails=data.gift_emails,
            money_emails=data.money_emails,
            language=data.language,
        )
    return json_response(settings_out(member_id, prefs))


async def resend_invite(request: Request) -> Response:
    invite_id: uuid.UUID = request.path_params["invite_id"]
    async with database(request).transaction() as session:
        actor = await api_actor(request, session)
        created, _ = await invites.resend_invite(session, actor=actor, invite_id=invite_id)
    invite = created.invite
    out = InviteOut(
        id=invite.id,
        email=invite.email,
        role=invite.role,
        expires_at=invite.expires_at,
        accept_url=invite_url(request, created.token),
    )
    return json_response(out)


def build() -> ApiRoutes:
    api = ApiRoutes()
    tag = "nonprofits"
    path = "/members/{member_id:uuid}/notifications"
    api.add(
        get_member_notifications,
        Operation(
            "GET",
            path,
            "A member's notification settings",
            tag,
            response=NotificationSettingsOut,
            errors=(401, 404),
        ),
    )
    api.add(
        set_member_notifications,
        Operation(
            "PUT",
            path,
            "Set a member's notification settings",
            tag,
            body=NotificationSettingsIn,
            response=NotificationSettingsOut,
            errors=(400, 401, 403, 404, 422),
        ),
    )
    api.add(
        resend_invite,
        Operation(
            "POST",
            "/members/invites/{invite_id:uuid}/resend",
            "Resend an invitation with a new link",
            tag,
            response=InviteOut,
            errors=(401, 403, 404, 409),
        ),
    )
    return api
