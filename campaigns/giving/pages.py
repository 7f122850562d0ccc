"""Public pages of the donor's path: campaign page, embed, donate form, thank-you page.

These pages never touch the session (no session cookie for anonymous viral traffic) and set
their own Content-Security-Policy: `form-action` must allow the redirect to Stripe Checkout,
and the embed's `frame-ancestors` lists the campaign's allowed origins.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from campaigns.engagement.recorder import recorder
from campaigns.fundraising.errors import FundraiserNotLive
from campaigns.giving import checkout, fundraiser_views, languages, limits, service, share_pages
from campaigns.giving.embedding import return_link
from campaigns.giving.errors import DonationNotFound, DonationsClosed, PaymentProviderUnavailable
from campaigns.giving.fees import RATE_BPS
from campaigns.giving.schemas import CheckoutIn, DonationMatchOut, DonationStatusOut
from campaigns.sharing.referral import COOKIE_PREFIX
from service import i18n
from service.errors import RateLimited, ValidationFailed
from service.money import MoneyError, currency
from service.settings import Settings
from service.web import compression, tokens
from service.web.api import validate
from service.web.context import (
    client_address,
    database,
    enforce_rate_limit,
    page_cache,
    settings,
    stripe_client,
)
from service.web.forms import AmountError, to_major_text, to_minor
from service.web.language import gettext_for, remember, template_context
from service.web.messages import N_
from service.web.microcache import CachedPage
from service.web.middleware import DEFAULT_CSP
from service.web.pages import templates
from service.web.urls import path_for, public_url_for

STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
# The page is the same for every visitor, so shared caches may keep it briefly; viral spikes
# then hit the cache, and the totals are at most a few seconds old.
PUBLIC_CACHE = "public, max-age=15, stale-while-revalidate=60"
# Form field -> message key: the service speaks the API's names.
_FORM_FIELDS = {"amount_minor": "amount"}
LANGUAGES = i18n.LANGUAGES


def page_csp(settings: Settings, *, frame_ancestors: str = "'none'") -> str:
    targets = {STRIPE_CHECKOUT_ORIGIN}
    api = urlsplit(settings.stripe_api_base)
    if settings.uses_stripe_sandbox and urlsplit(settings.public_base_url).netloc != api.netloc:
        targets.add(f"{api.scheme}://{api.netloc}")  # the sandbox's checkout page, served elsewhere
    csp = DEFAULT_CSP.replace("form-action 'self'", "form-action 'self' " + " ".join(sorted(targets)))
    csp = csp.replace("frame-ancestors 'none'", f"frame-ancestors {frame_ancestors}")
    assert csp != DEFAULT_CSP
    return csp


def _render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    frame_ancestors: str | None = None,
) -> Response:
    page = cacheable_page(request, template, context, status_code, frame_ancestors)
    return for_visitor(request, page, shared=False)


def cacheable_page(
    request: Request, template: str, context: dict[str, Any], status_code: int, frame_ancestors: str | None
) -> CachedPage:
    """The part of a page that is the same for every visitor (cacheable)."""
    rendered = templates.TemplateResponse(request, template, context, status_code=status_code)
    return _cached_page(request, bytes(rendered.body), context, status_code, frame_ancestors)


async def cacheable_page_in_slices(
    request: Request, template: str, context: dict[str, Any], status_code: int, frame_ancestors: str | None
) -> CachedPage:
    """cacheable_page, the template rendered in slices that let the cached copy's views run
    in between (service.web.pages._Templates.render_in_slices): for a hot page's re-render."""
    body = (await templates.render_in_slices(request, template, context)).encode("utf-8")
    return _cached_page(request, body, context, status_code, frame_ancestors)


def _cached_page(
    request: Request, body: bytes, context: dict[str, Any], status_code: int, frame_ancestors: str | None
) -> CachedPage:
    headers = {
        "Content-Type": f"{HTMLResponse.media_type}; charset={HTMLResponse.charset}",
        "Content-Language": str(context.get("lang", i18n.DEFAULT_LANGUAGE)),
        "Content-Security-Policy": page_csp(settings(request), frame_ancestors=frame_ancestors or "'none'"),
    }
    if frame_ancestors is None:
        headers["X-Frame-Options"] = "DENY"
    return CachedPage(body=body, status_code=status_code, headers=tuple(headers.items()))


def for_visitor(request: Request, page: CachedPage, *, shared: bool) -> Response:
    """The per-visitor part: the device cookie, whether shared caches may keep the page, what
    it varies by, and a `?lang=` choice remembered in the language cookie. A `shared` page
    (the same bytes for every visitor: from the page cache) goes gzipped to a browser that
    takes it; a page rendered for this request never does (service/web/compression.py)."""
    gzipped = page.gzip_body if shared else None
    if gzipped is not None and compression.accepts_gzip(request.headers.get("accept-encoding")):
        response = Response(gzipped, status_code=page.status_code)
        response.raw_headers.append(compression.CONTENT_ENCODING)
    else:
        response = Response(page.body, status_code=page.status_code)
    response.raw_headers += page.raw_headers
    device = request.cookies.get(tokens.DEVICE_COOKIE)
    asked = i18n.normalise(request.query_params.get("lang"))
    # A response that sets the language cookie is this visitor's alone.
    shareable = not languages.remembers(asked, request.cookies.get("gl_lang"))
    secure = settings(request).is_production
    response.raw_headers += visitor_headers(page.status_code, device, secure=secure, shareable=shareable)
    response.raw_headers += languages.vary_headers(in_url=asked is not None, compressible=gzipped is not None)
    remember(request, response)
    return response


def visitor_headers(
    status_code: int, device: str | None, *, secure: bool, shareable: bool = True
) -> list[tuple[bytes, bytes]]:
    """Cache-Control (shared caches may keep a page only for a returning visitor) and, for a
    visitor without the device cookie, a new one; also used by the fast path (fast_pages.py)."""
    cacheable = status_code == 200 and device is not None and shareable
    headers = [_PUBLIC_CACHE if cacheable else _PRIVATE_CACHE]
    if device is None:
        # First-party device id, stored only as a keyed hash on donations (identity clusters).
        headers.append(_device_cookie(tokens.new_device_id(), secure=secure))
    return headers


_PUBLIC_CACHE = (b"cache-control", PUBLIC_CACHE.encode())
_PRIVATE_CACHE = (b"cache-control", b"private, no-store")


def _device_cookie(device_id: str, *, secure: bool) -> tuple[bytes, bytes]:
    # What Response.set_cookie writes, without building a SimpleCookie on every first visit;
    # the id is URL-safe base64, which needs no quoting in a cookie.
    max_age = tokens.DEVICE_COOKIE_MAX_AGE
    value = f"{tokens.DEVICE_COOKIE}={device_id}; HttpOnly; Max-Age={max_age}; Path=/; SameSite=lax"
    return b"set-cookie", (value + "; Secure" if secure else value).encode("latin-1")


async def campaign_context(request: Request, slug: str, *, language: str | None = None) -> dict[str, Any]:
    """Everything the campaign page (and the embed) shows, in the reader's language: `language`
    (a posted form's), else what the request asks for (languages.requested, which the cache
    keys carry), else the campaign's."""
    async with database(request).transaction() as session:
        view = await service.campaign_view(session, slug=slug, now=session.now())
    config = settings(request)
    campaign = view.campaign
    lang = languages.resolved(language or languages.requested(request), campaign.default_language)
    canonical = public_url_for(request, "giving:campaign", slug=campaign.slug)
    return {
        **template_context(lang),
        "view": view,
        "campaign": campaign,
        "canonical_url": canonical,
        "alternates": languages.alternate_links(canonical),
        "country": languages.country_name(view.nonprofit.country, lang),
        "share": share_pages.campaign_share(request, view, lang),
        "form_token": tokens.form_token(config.secret_key, campaign.slug),
        # Radio values in the language's own writing ("25,00" in nl), which to_minor reads back.
        "suggested": [to_major_text(a, campaign.currency, lang) for a in campaign.suggested_amounts_minor],
        "fee_rate": languages.percent_text(RATE_BPS, lang),
        "values": {},
        "errors": {},
    }


async def campaign_page(request: Request) -> Response:
    slug: str = request.path_params["slug"]

    async def render() -> CachedPage:
        context = await campaign_context(request, slug)
        # B (#15): "Start a fundraiser" and the leaderboard, when peer-to-peer is on.
        context["fundraisers"] = await fundraiser_views.campaign_board(
            request, context["view"], context.get("lang", "en")
        )
        return await cacheable_page_in_slices(request, "giving/campaign.html", context, 200, None)

    page = await page_cache(request).get_or_render(("campaign", slug, languages.requested(request)), render)
    count_view(request, slug)
    return for_visitor(request, page, shared=True)


def count_view(request: Request, slug: str) -> None:
    # In memory, also when the page came from the cache; see campaigns/engagement/recorder.py.
    user_agent = request.headers.get("user-agent", "")
    recorder(request).record_view(slug, address=client_address(request), user_agent=user_agent)


def _form_data(values: Mapping[str, str], currency_code: str) -> dict[str, Any]:
    """The form as the API's CheckoutIn; an amount that is not exact raises AmountError."""
    text = values.get("custom_amount", "").strip() or values.get("amount", "").strip()
    if not text:
        raise AmountError(N_("choose or type an amount"))
    try:
        # In the page's language (the form posts it): "12,50" in Dutch, "12.50" in English.
        amount_minor = to_minor(text, currency(currency_code), i18n.normalise(values.get("language")))
    except MoneyError as e:
        raise AmountError(str(e)) from e
    return {
        "amount_minor": amount_minor,
        "currency": currency_code,
        "email": values.get("email", "").strip() or None,
        "anonymous": values.get("anonymous") == "on",
        "cover_fees": values.get("cover_fees") == "on",
        "message": values.get("message", "").replace("\r\n", "\n").strip() or None,
        "name": values.get("name", "").strip() or None,
        "hide_amount": values.get("hide_amount") == "on",
        "language": values.get("language") if values.get("language") in LANGUAGES else None,
        "frequency": values.get("frequency") or "once",
        "fundraiser": values.get("fundraiser", "").strip() or None,
    }


async def donate(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    form = await request.form(max_files=0, max_fields=20, max_part_size=16 * 1024)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    config = settings(request)
    _ = gettext_for(i18n.normalise(values.get("language")) or languages.page_language(request, None))
    if not tokens.form_token_valid(config.secret_key, values.get("form_token"), slug):
        message = _("This form expired. Please check your choices and press Donate again.")
        # 403 like every other form without its anti-forgery token (the donor sees the message).
        return await _form_page(request, slug, values, {"form": message}, 403)
    try:
        data = validate(CheckoutIn, _form_data(values, values.get("currency", "")))
        await enforce_checkout_limits(request, data.email)
        started = await checkout.start_checkout(
            database(request),
            stripe_client(request),
            request=checkout_request(request, slug, data, return_to=values.get("return_to")),
            urls=PublicReturnUrls(request),
            secret_key=config.secret_key,
        )
    except AmountError as e:
        return await _form_page(request, slug, values, {"amount": str(e)}, 422)
    except ValidationFailed as e:
        errors = {_FORM_FIELDS.get(k, k): v for k, v in e.fields.items()}
        return await _form_page(request, slug, values, errors, 422)
    except RateLimited as e:
        response = await _form_page(request, slug, values, {"form": e.detail}, 429)
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    except (DonationsClosed, PaymentProviderUnavailable) as e:
        return await _form_page(request, slug, values, {"form": e.detail}, e.status_code)
    except FundraiserNotLive as e:
        # The page was hidden or ended after the donor opened it: the form again, without the
        # page, so pressing Donate once more gives to the campaign itself.
        kept = {k: v for k, v in values.items() if k != "fundraiser"}
        message = _(
            "The fundraiser page you came from no longer takes gifts. "
            "Press Donate again to give to the campaign itself."
        )
        return await _form_page(request, slug, kept, {"form": message}, e.status_code)
    recorder(request).record_checkout_started(slug)
    return RedirectResponse(started.checkout_url, status_code=303)


async def _form_page(
    request: Request, slug: str, values: Mapping[str, str], errors: Mapping[str, str], status_code: int
) -> Response:
    context = await campaign_context(request, slug, language=i18n.normalise(values.get("language")))
    context.update(values=values, errors=errors)
    return _render(request, "giving/campaign.html", context, status_code=status_code)


async def enforce_checkout_limits(request: Request, email: str | None) -> None:
    """Browser and email first, the network's high ceiling last: a browser already refused
    does not use up the allowance of the honest people sharing its network."""
    secret = settings(request).secret_key
    browser = limits.browser_subject(
        device_hash=tokens.device_hash(secret, request.cookies.get(tokens.DEVICE_COOKIE)),
        client_hash=tokens.client_hash(secret, client_address(request)),
        user_agent=request.headers.get("user-agent", ""),
    )
    await enforce_rate_limit(request, limits.CHECKOUT_LIMIT_PER_BROWSER, browser)
    if email:
        await enforce_rate_limit(request, limits.CHECKOUT_LIMIT_PER_EMAIL, email.strip().lower())
    await enforce_rate_limit(request, limits.CHECKOUT_LIMIT_PER_NETWORK, client_address(request))


@dataclass(frozen=True)
class PublicReturnUrls:
    """checkout.ReturnUrls from route names: Stripe sends the donor back to the public base
    URL, never to the Host the request came in on."""

    request: Request

    def campaign(self, slug: str) -> str:
        return public_url_for(self.request, "giving:campaign", slug=slug)

    def thanks(self, slug: str) -> str:
        return public_url_for(self.request, "giving:thanks", slug=slug)


def checkout_request(
    request: Request, slug: str, data: CheckoutIn, *, return_to: str | None = None
) -> checkout.CheckoutRequest:
    """The donor's choices plus what the edge knows: cookies and address, hashed here."""
    secret = settings(request).secret_key
    return checkout.CheckoutRequest(
        slug=slug,
        amount_minor=data.amount_minor,
        currency=data.currency,
        email=data.email,
        anonymous=data.anonymous,
        cover_fees=data.cover_fees,
        message=data.message,
        name=data.name,
        hide_amount=data.hide_amount,
        referral_cookies={k: v for k, v in request.cookies.items() if k.startswith(COOKIE_PREFIX)},
        ref_code=data.ref,
        device_hash=tokens.device_hash(secret, request.cookies.get(tokens.DEVICE_COOKIE)),
        client_hash=tokens.client_hash(secret, client_address(request)),
        return_to=return_to,
        language=data.language or i18n.negotiate(request.headers.get("accept-language")),
        frequency=data.frequency,
        fundraiser=data.fundraiser,
    )


async def _progress(request: Request) -> service.DonationProgress:
    try:
        donation_id = uuid.UUID(request.query_params.get("donation", ""))
    except ValueError as e:
        raise DonationNotFound("no such donation") from e
    async with database(request).transaction() as session:
        return await service.donation_progress(
            session,
            slug=request.path_params["slug"],
            donation_id=donation_id,
            token=request.query_params.get("t"),
            stripe_checkout_session_id=request.query_params.get("session_id"),
            secret_key=settings(request).secret_key,
        )


async def thanks_page(request: Request) -> Response:
    progress = await _progress(request)
    async with database(request).transaction() as session:
        view = await service.campaign_view(session, slug=request.path_params["slug"], now=session.now())
    slug = request.path_params["slug"]
    # Without a choice of their own, donors read it in the language they gave in.
    lang = languages.page_language(request, progress.donation.language or view.campaign.default_language)
    progress = progress.in_language(lang)
    context = {
        **template_context(lang),
        "state_text": gettext_for(lang)(progress.state),
        "progress": progress,
        "donation": progress.donation,
        "campaign": view.campaign,
        "share": share_pages.supporter_share(request, view, progress.share_code, lang),
        "status_url": path_for(request, "giving:thanks_status", slug=slug) + "?" + request.url.query,
        "refresh_url": path_for(request, "giving:thanks", slug=slug) + "?" + request.url.query,
        "return_link": return_link(
            request.query_params.get("return_to"), view.campaign.allowed_embed_origins
        ),
    }
    response = templates.TemplateResponse(request, "giving/thanks.html", context)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return languages.localise(request, response, lang)


def _share_url(request: Request, share_code: str | None) -> str | None:
    """The donor's own share link, to paste anywhere: absolute, on the public base URL."""
    return public_url_for(request, "sharing:follow", code=share_code) if share_code else None


async def thanks_status(request: Request) -> Response:
    progress = await _progress(request)
    donation = progress.donation
    # The status sentences in the thank-you page's language (its status URL carries its query).
    progress = progress.in_language(languages.page_language(request, donation.language))
    share = _share_url(request, progress.share_code)
    body = DonationStatusOut(
        state=progress.state,
        amount_minor=donation.amount_minor,
        fee_cover_minor=donation.fee_cover_minor,
        currency=donation.currency,
        share_url=share,
        matches=[DonationMatchOut.model_validate(m, from_attributes=True) for m in progress.matches],
        awaiting_matches=progress.awaiting_matches,
    )
    return JSONResponse(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


routes = [
    Route("/c/{slug:str}", campaign_page, methods=["GET"], name="giving:campaign"),
    Route("/c/{slug:str}/donate", donate, methods=["POST"], name="giving:donate"),
    Route("/c/{slug:str}/thanks", thanks_page, methods=["GET"], name="giving:thanks"),
    Route("/c/{slug:str}/thanks/status", thanks_status, methods=["GET"], name="giving:thanks_status"),
]
