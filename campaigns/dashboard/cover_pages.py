"""Dashboard: upload, replace and remove a campaign's cover image (the API's PUT/DELETE
/campaigns/{id}/cover, for people). The form sits on the campaign's page; a refused upload
comes back on a page of its own with the message next to the field."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.campaign import covers
from campaigns.campaign import service as campaigns
from campaigns.campaign.errors import FieldLocked, ImageTooLarge, InvalidImage
from campaigns.campaign.models import Campaign
from campaigns.campaign.web import UPLOAD_BODY_BYTES, prepare_and_store, read_cover_form
from campaigns.dashboard import campaign_words
from campaigns.dashboard.auth import require_actor, signed_in
from campaigns.dashboard.language import translator
from campaigns.nonprofits.actors import Actor
from service.errors import ValidationFailed
from service.media import media_store
from service.web.context import database
from service.web.language import page_language
from service.web.pages import flash, read_form, redirect, render
from service.web.urls import path_for
from service.web.validation_messages import sentences


@signed_in
async def upload_cover(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    db, store = database(request), media_store(request)
    # The anti-forgery token first: a forged post learns nothing, not even whether the
    # campaign's cover may change (the member is signed in, so reading the body is theirs).
    form = await read_form(request, max_files=1)
    async with db.transaction() as session:
        actor = await require_actor(request, session)
        campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
        try:
            covers.check_changeable(actor, campaign)
        except FieldLocked as e:
            error = campaign_words.error_text(e, page_language(request), status=campaign.status.value)
            return _cover_page(request, actor, campaign, errors={"form": error}, status_code=409)
    alt = form.get("alt")
    values = {"alt": alt if isinstance(alt, str) else ""}
    try:
        data, alt_text = await read_cover_form(form)
        prepared = await prepare_and_store(store, data)
    except ValidationFailed as e:
        return _cover_page(request, actor, campaign, errors=e.fields, values=values, status_code=422)
    except (InvalidImage, ImageTooLarge) as e:
        errors = {"image": campaign_words.cover_error_text(e, page_language(request))}
        return _cover_page(request, actor, campaign, errors=errors, values=values, status_code=e.status_code)
    async with db.transaction() as session:
        actor = await require_actor(request, session)
        await covers.set_cover(
            session, actor=actor, store=store, campaign_id=campaign_id, prepared=prepared, alt=alt_text
        )
    _ = translator(request)
    flash(request, _("Cover saved. This is how donors will see it on the campaign page."))
    return redirect(path_for(request, "dashboard:campaign", campaign_id=campaign_id) + "#cover")


@signed_in
async def remove_cover(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    await read_form(request)
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        await covers.remove_cover(session, actor=actor, store=media_store(request), campaign_id=campaign_id)
    _ = translator(request)
    flash(request, _("Cover removed."))
    return redirect(path_for(request, "dashboard:campaign", campaign_id=campaign_id) + "#cover")


def _cover_page(
    request: Request,
    actor: Actor,
    campaign: Campaign,
    *,
    errors: Mapping[str, str],
    values: Mapping[str, str] | None = None,
    status_code: int,
) -> Response:
    context = {
        "actor": actor,
        "campaign": campaign,
        "can_edit": True,
        "cover_errors": sentences(errors, page_language(request)),
        "cover_values": values or {},
    }
    return render(request, "dashboard/cover.html", context, status_code)


routes = [
    Route(
        "/campaigns/{campaign_id:uuid}/cover",
        upload_cover,
        methods=["POST"],
        name="campaign_cover",
        max_body_size=UPLOAD_BODY_BYTES,
    ),
    Route(
        "/campaigns/{campaign_id:uuid}/cover/remove",
        remove_cover,
        methods=["POST"],
        name="campaign_cover_remove",
    ),
]
