"""Sharing on the donor's pages: the share block's context and the Open Graph card.

GET /c/{slug}/og.png is the card networks show for a shared campaign link (see og_card.py).
It is public and the same for everyone, so shared caches may keep it briefly; its ETag comes
from what it shows, so a crawler revalidating an unchanged card gets a 304 without a drawing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.giving import og_card, service
from campaigns.giving.share import ShareTools, share_tools
from service import i18n
from service.web.context import database
from service.web.etags import etag_matches
from service.web.urls import public_url_for

# Short: the card shows live totals. Networks fetch it once per share and keep their own copy.
OG_CACHE = "public, max-age=300, stale-while-revalidate=3600"


def og_image_url(request: Request, view: service.CampaignView, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """Absolute (crawlers fetch it from elsewhere), with the card's version: networks keep
    images by URL, so new totals need a new URL to be seen at all. A Dutch page's card is
    drawn in Dutch (`&lang=nl`; crawlers send no language of their own)."""
    version = og_card.card_facts(view, language).version
    url = public_url_for(request, "giving:og_image", slug=view.campaign.slug) + f"?v={version[:12]}"
    return url if language == i18n.DEFAULT_LANGUAGE else f"{url}&lang={language}"


def share_context(
    request: Request,
    view: service.CampaignView,
    *,
    url: str,
    supporter: bool = False,
    with_qr: bool = False,
    language: str = i18n.DEFAULT_LANGUAGE,
) -> ShareTools:
    """What giving/_share.html shows for `url`: the campaign's canonical link on its page, the
    donor's own link (with its QR code) on the thank-you page."""
    return share_tools(
        url=url,
        title=view.campaign.title,
        organisation=view.nonprofit.name,
        offers=view.match_offers,
        supporter=supporter,
        image_url=og_image_url(request, view, language),
        with_qr=with_qr,
        language=language,
    )


def campaign_share(
    request: Request, view: service.CampaignView, language: str = i18n.DEFAULT_LANGUAGE
) -> ShareTools:
    url = public_url_for(request, "giving:campaign", slug=view.campaign.slug)
    return share_context(request, view, url=url, language=language)


def supporter_share(
    request: Request,
    view: service.CampaignView,
    share_code: str | None,
    language: str = i18n.DEFAULT_LANGUAGE,
) -> ShareTools | None:
    """The donor's own link (None until the payment went through), with its QR code."""
    if share_code is None:
        return None
    url = public_url_for(request, "sharing:follow", code=share_code)
    return share_context(request, view, url=url, supporter=True, with_qr=True, language=language)


async def og_image(request: Request) -> Response:
    async with database(request).transaction() as session:
        view = await service.campaign_view(session, slug=request.path_params["slug"], now=session.now())
    language = i18n.normalise(request.query_params.get("lang")) or i18n.DEFAULT_LANGUAGE
    facts = og_card.card_facts(view, language)
    headers = {"ETag": facts.etag, "Cache-Control": OG_CACHE}
    if etag_matches(request, facts.etag):
        return Response(status_code=304, headers=headers)
    png = await og_card.cards.get(facts)
    return Response(png, media_type="image/png", headers=headers)


routes = [Route("/c/{slug:str}/og.png", og_image, methods=["GET"], name="giving:og_image")]
