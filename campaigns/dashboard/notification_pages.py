"""The signed-in member's own notification settings: gift emails, money emails, language."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.dashboard.auth import require_actor, signed_in
from campaigns.dashboard.language import translator
from campaigns.nonprofits.actors import Actor
from campaigns.notifications import preferences
from campaigns.notifications.models import GiftEmails
from campaigns.notifications.schemas import NotificationSettingsIn
from service.errors import ValidationFailed
from service.web.api import validate
from service.web.context import database
from service.web.messages import N_
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for

TEMPLATE = "dashboard/notifications.html"
GIFT_CHOICES = (
    (GiftEmails.EACH.value, N_("An email for each gift"), N_("As soon as a gift is confirmed.")),
    (
        GiftEmails.DAILY.value,
        N_("One summary a day"),
        N_(
            "The morning after a day with gifts: how many, the totals and the list. "
            "No email after a day without gifts."
        ),
    ),
    (GiftEmails.NONE.value, N_("No gift emails"), N_("You see every gift in the dashboard.")),
)
LANGUAGES = (("en", "English"), ("nl", "Nederlands"))


def _page(
    request: Request, actor: Actor, values: Mapping[str, str], errors: Mapping[str, str], status: int = 200
) -> Response:
    _ = translator(request)
    context = {
        "actor": actor,
        "values": values,
        "errors": errors,
        "gift_choices": [(value, _(label), _(hint)) for value, label, hint in GIFT_CHOICES],
        "languages": LANGUAGES,
    }
    return render(request, TEMPLATE, context, status)


@signed_in
async def notifications_page(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        assert actor.member_id is not None
        prefs = await preferences.get_preferences(session, actor=actor, member_id=actor.member_id)
    values = {
        "gift_emails": prefs.gift_emails.value,
        "money_emails": "on" if prefs.money_emails else "",
        "language": prefs.language,
    }
    return _page(request, actor, values, {})


@signed_in
async def save_notifications(request: Request) -> Response:
    values = form_values(await read_form(request))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        assert actor.member_id is not None
        try:
            data = validate(
                NotificationSettingsIn,
                {
                    "gift_emails": values.get("gift_emails", ""),
                    # An unticked checkbox sends nothing at all.
                    "money_emails": values.get("money_emails") == "on",
                    "language": values.get("language", ""),
                },
            )
        except ValidationFailed as e:
            return _page(request, actor, values, e.fields, 422)
        await preferences.save_preferences(
            session,
            actor=actor,
            member_id=actor.member_id,
            gift_emails=data.gift_emails,
            money_emails=data.money_emails,
            language=data.language,
        )
    _ = translator(request)
    flash(request, _("Your notification settings are saved."))
    return redirect(path_for(request, "dashboard:notifications"))


routes = [
    Route("/notifications", notifications_page, methods=["GET"], name="notifications"),
    Route("/notifications", save_notifications, methods=["POST"], name="notifications_submit"),
]
