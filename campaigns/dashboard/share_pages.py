"""Dashboard: a campaign's share kit (link, iframe and button snippets, QR code) and channel links."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.campaign import service as campaigns
from campaigns.campaign.models import Campaign
from campaigns.dashboard import campaign_words
from campaigns.dashboard.auth import require_actor, signed_in
from campaigns.dashboard.language import translator
from campaigns.sharing import service as sharing
from campaigns.sharing.models import ShareLink
from campaigns.sharing.qr import qr_svg
from campaigns.sharing.service import Channel
from service.web.context import database
from service.web.language import gettext_for
from service.web.pages import flash, read_form, redirect
from service.web.urls import path_for, public_url_for


@dataclass(frozen=True)
class ShareKit:
    link: str
    iframe: str
    button: str
    qr_url: str
    channel_links: list[tuple[ShareLink, str]]
    channels: list[str]


def share_kit(request: Request, campaign: Campaign, links: list[ShareLink]) -> ShareKit:
    """What a nonprofit pastes into other sites: absolute links on the public base URL. The
    snippets' words are in the campaign's default language, the language of the sites it is
    shared on, whatever language the member reads the dashboard in."""
    public = public_url_for(request, "giving:campaign", slug=campaign.slug)
    _ = gettext_for(campaign.default_language)
    title = html.escape(_("Donate to %(title)s", title=campaign.title))
    donate = html.escape(_("Donate"))
    embed = public_url_for(request, "giving:embed", slug=campaign.slug)
    # What the form needs and no more: Checkout leaves the frame for a new tab or the top
    # window, and only when the donor presses Donate (campaigns/giving/embedding.py).
    iframe = (
        f'<iframe src="{embed}" title="{title}" '
        'width="100%" height="720" loading="lazy" sandbox="allow-scripts allow-same-origin '
        "allow-forms allow-popups allow-popups-to-escape-sandbox "
        'allow-top-navigation-by-user-activation"></iframe>'
    )
    # The theme attributes are written out so nonprofits see what they can change (embed.js).
    button = (
        f'<script src="{public_url_for(request, "giving:embed_script")}" defer></script>\n'
        f'<a href="{public}" data-goodloop="{campaign.slug}" data-goodloop-color="#0b7a5a" '
        f'data-goodloop-size="medium" data-goodloop-label="{donate}">{donate}</a>'
    )
    return ShareKit(
        link=public,
        iframe=iframe,
        button=button,
        qr_url=path_for(request, "dashboard:campaign_qr", campaign_id=campaign.id),
        channel_links=[(link, public_url_for(request, "sharing:follow", code=link.code)) for link in links],
        channels=[c.value for c in Channel],
    )


@signed_in
async def qr_code(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        campaign = await campaigns.get_campaign(session, actor=actor, campaign_id=campaign_id)
    url = public_url_for(request, "giving:campaign", slug=campaign.slug)
    return Response(
        qr_svg(url), media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=300"}
    )


@signed_in
async def create_channel_link(request: Request) -> Response:
    campaign_id: uuid.UUID = request.path_params["campaign_id"]
    form = await read_form(request)
    raw = form.get("channel")
    try:
        channel = Channel(raw if isinstance(raw, str) else "")
    except ValueError:
        _ = translator(request)
        flash(request, _("Choose a channel for the new link."))
        return redirect(path_for(request, "dashboard:campaign", campaign_id=campaign_id))
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        link = await sharing.create_channel_link(
            session, actor=actor, campaign_id=campaign_id, channel=channel
        )
    _ = translator(request)
    name = campaign_words.channel_names(_).get(channel.value, channel.value)
    url = public_url_for(request, "sharing:follow", code=link.code)
    flash(request, _("New %(channel)s link: %(url)s", channel=name, url=url))
    return redirect(path_for(request, "dashboard:campaign", campaign_id=campaign_id) + "#share")


routes = [
    Route("/campaigns/{campaign_id:uuid}/qr.svg", qr_code, methods=["GET"], name="campaign_qr"),
    Route(
        "/campaigns/{campaign_id:uuid}/share-links",
        create_channel_link,
        methods=["POST"],
        name="share_link_create",
    ),
]
