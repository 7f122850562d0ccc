"""A supporter's fundraiser page and a team's page (#15): /c/{slug}/f/{fundraiser_slug} and
/c/{slug}/t/{team_slug}; and the campaign page's peer-to-peer block (`campaign_board`).

Public and cacheable like the campaign page (campaigns/giving/pages.py): no session, the same
Content-Security-Policy (the donate form posts to Stripe Checkout's redirect), rendered once per
few seconds per language from the page cache, the visitor's device cookie added afterwards.
The cache key carries the language the visitor asked for (`requested_language`); a visitor
who asked for none reads the campaign's default language, which is the same for everyone.
Only live pages are public: a page waiting for its email, for approval, hidden or ended is a 404
like a page that never existed.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.giving import (
    fundraiser_manage_pages,
    fundraiser_report_pages,
    fundraiser_start_pages,
    fundraiser_views,
    languages,
    pages,
    service,
)
from campaigns.giving.fees import RATE_BPS
from campaigns.giving.share import ShareTools, channel_links
from campaigns.sharing.qr import qr_data_uri
from service import i18n
from service.web import tokens
from service.web.context import database, page_cache, settings
from service.web.forms import to_major_text
from service.web.language import COOKIE, QUERY_PARAMETER, gettext_for, page_language, template_context
from service.web.microcache import CachedPage
from service.web.urls import path_for, public_url_for


def requested_language(request: Request) -> str | None:
    """nl or en when the request asks for a language (URL, cookie, browser), else None: then
    the page is in the campaign's default language, the same for every such visitor."""
    return (
        i18n.normalise(request.query_params.get(QUERY_PARAMETER))
        or i18n.normalise(request.cookies.get(COOKIE))
        or i18n.negotiate_or_none(request.headers.get("accept-language"))
    )


def alternate_links(url: str) -> list[tuple[str, str]]:
    """`<link rel="alternate" hreflang>`: the page in each language, and itself as x-default."""
    return [
        *((language, f"{url}?{QUERY_PARAMETER}={language}") for language in i18n.LANGUAGES),
        ("x-default", url),
    ]


def _cacheable(request: Request, template: str, context: dict[str, Any], lang: str) -> CachedPage:
    page = pages.cacheable_page(request, template, {**template_context(lang), **context}, 200, None)
    if any(name.lower() == "content-language" for name, _ in page.headers):
        return page
    return CachedPage(page.body, page.status_code, (*page.headers, ("Content-Language", lang)))


def donate_form_context(request: Request, view: service.CampaignView, lang: str) -> dict[str, Any]:
    """What giving/_donate_form.html needs, as the campaign page gives it, in `lang`: the
    suggested amounts are radio values the donate form reads back in the page's language."""
    campaign = view.campaign
    return {
        "form_token": tokens.form_token(settings(request).secret_key, campaign.slug),
        "suggested": [to_major_text(a, campaign.currency, lang) for a in campaign.suggested_amounts_minor],
        # The campaign page's own rule (campaigns.giving.languages): "2,9%" in Dutch.
        "fee_rate": languages.percent_text(RATE_BPS, lang),
        "values": {},
        "errors": {},
    }


def fundraiser_share(
    request: Request, view: service.CampaignView, card: fundraiser_views.FundraiserCard, lang: str
) -> ShareTools:
    """The fundraiser's own link and words: gifts through it count toward their page."""
    _ = gettext_for(lang)
    url = public_url_for(request, "giving:fundraiser", slug=view.campaign.slug, fundraiser_slug=card.slug)
    text = _(
        "%(title)s: I'm raising money for %(nonprofit)s. Will you give through my page?",
        title=card.title,
        nonprofit=view.nonprofit.name,
    )
    subject = _("Support my fundraiser: %(title)s", title=card.title)
    return ShareTools(
        url=url,
        title=card.title,
        text=text,
        subject=subject,
        links=channel_links(url=url, text=text, subject=subject),
        image_url=None,
        qr_data_uri=qr_data_uri(url, title=_("QR code of %(url)s", url=url)),
    )


def _image(request: Request, view: service.CampaignView, card: fundraiser_views.FundraiserCard) -> str:
    if card.photo_key and card.photo_widths:
        return public_url_for(request, "media:file", name=card.photo_file(card.photo_widths[-1], "jpg"))
    return public_url_for(request, "giving:og_image", slug=view.campaign.slug)


async def fundraiser_page(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    fundraiser_slug: str = request.path_params["fundraiser_slug"]

    async def render() -> CachedPage:
        async with database(request).transaction() as session:
            view = await service.campaign_view(session, slug=slug, now=session.now())
            lang = page_language(request, default=view.campaign.default_language)
            found = await fundraiser_views.fundraiser_page(
                session, campaign=view.campaign, fundraiser_slug=fundraiser_slug, lang=lang
            )
        card = found.fundraiser
        share = fundraiser_share(request, view, card, lang)
        context = {
            "view": view,
            "campaign": view.campaign,
            "nonprofit": view.nonprofit,
            "nonprofit_verified": view.nonprofit.status.value == "verified",
            "f": card,
            "fundraiser_slug": card.slug,
            "supporters": found.supporters,
            "share": share,
            "canonical_url": share.url,
            "alternates": alternate_links(share.url),
            "description": service.story_text(card.story_html) or card.title,
            "image_url": _image(request, view, card),
            "image_alt": card.photo_alt or card.title,
            "report_url": path_for(request, "giving:fundraiser_report", slug=slug, fundraiser_slug=card.slug)
            + f"?lang={lang}",
            **donate_form_context(request, view, lang),
        }
        return _cacheable(request, "giving/fundraiser.html", context, lang)

    key = ("fundraiser", slug, fundraiser_slug, requested_language(request))
    return pages.for_visitor(request, await page_cache(request).get_or_render(key, render), shared=True)


async def team_page(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    team_slug: str = request.path_params["team_slug"]

    async def render() -> CachedPage:
        async with database(request).transaction() as session:
            view = await service.campaign_view(session, slug=slug, now=session.now())
            lang = page_language(request, default=view.campaign.default_language)
            team = await fundraiser_views.team_card(
                session, campaign=view.campaign, team_slug=team_slug, lang=lang
            )
        campaign = view.campaign
        canonical = public_url_for(request, "giving:team", slug=slug, team_slug=team.slug)
        start = campaign.fundraisers_enabled and not view.closed_reason
        context = {
            "view": view,
            "campaign": campaign,
            "nonprofit": view.nonprofit,
            "team": team,
            "canonical_url": canonical,
            "alternates": alternate_links(canonical),
            "image_url": public_url_for(request, "giving:og_image", slug=slug),
            "start_url": (
                path_for(request, "giving:fundraiser_start", slug=slug) + f"?team={team.slug}"
                if start
                else None
            ),
        }
        return _cacheable(request, "giving/team.html", context, lang)

    key = ("team", slug, team_slug, requested_language(request))
    return pages.for_visitor(request, await page_cache(request).get_or_render(key, render), shared=True)


routes = [
    Route(
        "/c/{slug:str}/f/{fundraiser_slug:str}", fundraiser_page, methods=["GET"], name="giving:fundraiser"
    ),
    Route("/c/{slug:str}/t/{team_slug:str}", team_page, methods=["GET"], name="giving:team"),
    *fundraiser_report_pages.routes,
    *fundraiser_start_pages.routes,
    *fundraiser_manage_pages.routes,
]
