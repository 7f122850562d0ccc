"""Dashboard pages for a nonprofit's campaigns: list, create, detail, edit, status actions."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pydantic
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.campaign import service as campaigns
from campaigns.campaign.errors import FieldLocked, IllegalTransition, NonprofitNotVerified, SlugTaken
from campaigns.campaign.models import Campaign
from campaigns.campaign.schemas import CampaignIn, CampaignPatch
from campaigns.campaign.status import NONPROFIT_ACTIONS, Action, available_actions
from campaigns.campaign.story import render_story
from campaigns.dashboard import campaign_settings, campaign_words, forms, share_pages
from campaigns.dashboard.auth import Endpoint, has_role, require_actor, signed_in
from campaigns.dashboard.language import translator
from campaigns.nonprofits import service as nonprofits
from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from campaigns.sharing import service as sharing
from service.errors import DomainError, ValidationFailed
from service.money import STRIPE_CURRENCIES
from service.pagination import next_cursor
from service.web.api import validate
from service.web.context import database
from service.web.language import page_language
from service.web.messages import N_
from service.web.pages import flash, form_values, read_form, redirect, render
from service.web.urls import path_for, public_url_for

PAGE_SIZE = 50
CURRENCIES = sorted(STRIPE_CURRENCIES)
# What each status button says, and what the flash says once it worked.
ACTION_LABELS = {
    Action.SUBMIT: (N_("Submit for review"), N_("Sent for review. A moderator will look at it soon.")),
    Action.WITHDRAW: (N_("Withdraw from review"), N_("Withdrawn from review; it is a draft again.")),
    Action.PAUSE: (N_("Pause donations"), N_("Paused: the campaign takes no donations until you resume it.")),
    Action.RESUME: (N_("Resume donations"), N_("Resumed: the campaign takes donations again.")),
    Action.END: (N_("End campaign"), N_("Ended. Thank you for running it.")),
    Action.ARCHIVE: (N_("Archive"), N_("Archived.")),
}


def detail_url(request: Request, campaign_id: uuid.UUID) -> str:
    return path_for(request, "dashboard:campaign", campaign_id=campaign_id)


@signed_in
async def list_campaigns(request: Request) -> Response:
    cursor = request.query_params.get("cursor") or None
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        rows = await campaigns.list_campaigns(
            session, actor=actor, status=None, limit=PAGE_SIZE, cursor=cursor
        )
    context = {
        "actor": actor,
        "campaigns": rows[:PAGE_SIZE],
        "next_cursor": next_cursor(rows, PAGE_SIZE),
        "can_edit": has_role(actor, MemberRole.EDITOR),
    }
    return render(request, "dashboard/campaigns.html", context)


@signed_in
async def new_campaign(request: Request) -> Response:
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        country = (await nonprofits.get_own_nonprofit(session, actor=actor)).country
    actor.require(MemberRole.EDITOR)
    language = campaigns.language_for_country(country)
    return _form_page(request, actor, campaign=None, values={"currency": "eur", "default_language": language})


@signed_in
async def create_campaign(request: Request) -> Response:
    values = form_values(await read_form(request))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        actor.require(MemberRole.EDITOR)
        if values.get("intent") == "preview":
            return _preview_page(request, actor, campaign=None, values=values)
        parsed = forms.parse_campaign(values, page_language(request))
        campaign_settings.add_settings(parsed, values)
        try:
            async with session.begin_nested():
                data = _validated(CampaignIn, parsed)
                campaign = await campaigns.create_campaign(session, actor=actor, data=data)
        except (ValidationFailed, SlugTaken, NonprofitNotVerified, FieldLocked) as e:
            return _form_error_page(request, actor, None, values, parsed, e)
    _ = translator(request)
    flash(request, _("Campaign saved as a draft."))
    return redirect(detail_url(request, campaign.id))


@signed_in
async def campaign_detail(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
        links = await sharing.list_channel_links(session, actor=actor, campaign_id=campaign_id)
    kit = share_pages.share_kit(request, campaign, links)
    return _detail_page(request, actor, campaign, kit=kit)


@signed_in
async def edit_campaign(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    actor.require(MemberRole.EDITOR)
    values = forms.campaign_values(campaign, page_language(request)) | campaign_settings.settings_values(
        campaign
    )
    return _form_page(request, actor, campaign=campaign, values=values)


@signed_in
async def update_campaign(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    values = form_values(await read_form(request))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
        actor.require(MemberRole.EDITOR)
        if values.get("intent") == "preview":
            return _preview_page(request, actor, campaign=campaign, values=values)
        parsed = forms.parse_campaign_changes(values, campaign, page_language(request))
        _ = translator(request)
        campaign_settings.add_setting_changes(parsed, values, campaign)
        if not parsed.data and not parsed.errors:
            flash(request, _("Nothing changed."))
            return redirect(detail_url(request, campaign_id))
        try:
            async with session.begin_nested():
                patch = _validated(CampaignPatch, parsed)
                await campaigns.update_campaign(session, actor=actor, campaign_id=campaign_id, patch=patch)
        except (ValidationFailed, SlugTaken, NonprofitNotVerified, FieldLocked) as e:
            return _form_error_page(request, actor, campaign, values, parsed, e)
    flash(request, _("Changes saved."))
    return redirect(detail_url(request, campaign_id))


def transition_endpoint(action: Action) -> Endpoint:
    @signed_in
    async def endpoint(request: Request) -> Response:
        campaign_id: uuid.UUID = request.path_params["campaign_id"]
        await read_form(request)
        async with database(request).transaction() as session:
            actor = await require_actor(request, session)
            try:
                async with session.begin_nested():
                    await campaigns.transition_campaign(
                        session, actor=actor, campaign_id=campaign_id, action=action
                    )
            except (IllegalTransition, NonprofitNotVerified) as e:
                campaign = await _reloaded(session, actor, campaign_id)
                error = campaign_words.error_text(e, page_language(request), status=campaign.status.value)
                return _detail_page(request, actor, campaign, error=error, status_code=e.status_code)
        flash(request, translator(request)(ACTION_LABELS[action][1]))
        return redirect(detail_url(request, campaign_id))

    endpoint.__name__ = f"{action.value}_campaign"
    return endpoint


async def _reloaded(session: AsyncSession, actor: Actor, campaign_id: uuid.UUID) -> Campaign:
    # The savepoint rolled back; read the row again rather than trust expired attributes.
    campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    await session.refresh(campaign)
    return campaign


def _validated(model: type[pydantic.BaseModel], parsed: forms.ParsedCampaign) -> Any:
    """The schema's verdict and the form's own (amounts, dates) together, in one error."""
    try:
        data = validate(model, parsed.data)
    except ValidationFailed as e:
        raise ValidationFailed(parsed.with_schema_errors(e.fields)) from e
    if parsed.errors:
        raise ValidationFailed(parsed.errors)
    return data


def _form_error_page(
    request: Request,
    actor: Actor,
    campaign: Campaign | None,
    values: Mapping[str, str],
    parsed: forms.ParsedCampaign,
    error: DomainError,
) -> Response:
    status = campaign.status.value if campaign else "draft"
    if isinstance(error, ValidationFailed):
        errors = parsed.with_schema_errors(error.fields)
    elif isinstance(error, SlugTaken):
        errors = {"slug": campaign_words.error_text(error, page_language(request), status=status)}
    else:
        errors = {"form": campaign_words.error_text(error, page_language(request), status=status)}
    return _form_page(
        request, actor, campaign=campaign, values=values, errors=errors, status_code=error.status_code
    )


def _preview_page(
    request: Request, actor: Actor, *, campaign: Campaign | None, values: Mapping[str, str]
) -> Response:
    preview_html = render_story(values.get("story", ""))
    return _form_page(request, actor, campaign=campaign, values=values, preview_html=preview_html)


def _form_page(
    request: Request,
    actor: Actor,
    *,
    campaign: Campaign | None,
    values: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
    preview_html: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "actor": actor,
        "campaign": campaign,
        "values": values,
        "errors": errors or {},
        "preview_html": preview_html,
        "currencies": CURRENCIES,
        "action_url": (
            path_for(request, "dashboard:campaign_update", campaign_id=campaign.id)
            if campaign
            else path_for(request, "dashboard:campaign_create")
        ),
    }
    return render(request, "dashboard/campaign_form.html", context, status_code)


def _detail_page(
    request: Request,
    actor: Actor,
    campaign: Campaign,
    *,
    error: str | None = None,
    status_code: int = 200,
    kit: share_pages.ShareKit | None = None,
) -> Response:
    can_edit = has_role(actor, MemberRole.EDITOR)
    actions = available_actions(campaign.status) if can_edit else []
    _ = translator(request)
    context = {
        "actor": actor,
        "campaign": campaign,
        "can_edit": can_edit,
        "actions": [(a.value, _(ACTION_LABELS[a][0])) for a in actions],
        "channel_names": campaign_words.channel_names(_),
        "public_url": public_url_for(request, "giving:campaign", slug=campaign.slug),
        "error": error,
        "kit": kit,
    }
    return render(request, "dashboard/campaign.html", context, status_code)


routes = [
    Route("/campaigns", list_campaigns, methods=["GET"], name="campaigns"),
    Route("/campaigns/new", new_campaign, methods=["GET"], name="campaign_new"),
    Route("/campaigns/new", create_campaign, methods=["POST"], name="campaign_create"),
    Route("/campaigns/{campaign_id:uuid}", campaign_detail, methods=["GET"], name="campaign"),
    Route("/campaigns/{campaign_id:uuid}/edit", edit_campaign, methods=["GET"], name="campaign_edit"),
    Route("/campaigns/{campaign_id:uuid}/edit", update_campaign, methods=["POST"], name="campaign_update"),
    *[
        Route(
            f"/campaigns/{{campaign_id:uuid}}/{action.value}",
            transition_endpoint(action),
            methods=["POST"],
            name=f"campaign_{action.value}",
        )
        for action in sorted(NONPROFIT_ACTIONS)
    ],
]
