"""A fundraiser edits their own page (#15): no password, a one-time sign-in link by email.

- `GET /c/{slug}/fundraisers/manage`: signed in, the editor (title, story, goal, team, photo,
  sign out); otherwise "type your email" (`POST .../manage/link` sends the link, the same
  answer for every address: no account enumeration; rate limited per email and network).
- `GET /c/{slug}/fundraisers/sign-in/{token}`: a Sign in button only (mail scanners fetch
  links and must not spend them); its POST spends the link (campaigns.fundraising) and sets
  the fundraiser's own cookie (`fundraiser_session`: HttpOnly, SameSite=Lax, scoped to this
  campaign's manage pages).
- `POST .../manage` saves, `POST .../manage/photo` uploads a photo: the form is read with the
  campaign cover's rules (campaigns.campaign.web.read_cover_form), then fundraiser_actions
  stores it through campaigns.fundraising.photos (decoded and re-encoded off the event loop,
  content-addressed files written before the row points at them), `POST .../manage/sign-out`.
  Uploads are rate limited per page and per network before the image is decoded
  (campaigns.fundraising.limits.enforce_photo_limits).
- On a campaign that approves each page, the editor says before saving that a new title, story
  or photo takes a live page off the site until the nonprofit approves it again
  (campaigns.fundraising.managing.hold_for_approval).

Session pages: every POST is CSRF-checked against the session's token (read_form) before
anything else, so a forged post learns nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.campaign.errors import ImageTooLarge, InvalidImage
from campaigns.campaign.web import UPLOAD_BODY_BYTES, read_cover_form
from campaigns.fundraising import limits
from campaigns.fundraising.errors import IllegalFundraiserTransition, SignInRequired
from campaigns.giving import fundraiser_actions, fundraiser_session, fundraiser_views, service
from campaigns.giving.fundraiser_start_pages import (
    FORM_FIELDS,
    button_page,
    goal_minor,
    message_page,
)
from campaigns.giving.fundraiser_views import FundraiserCard
from service.errors import RateLimited, ValidationFailed
from service.media import media_store
from service.web.context import database
from service.web.forms import AmountError, to_major_text
from service.web.language import gettext_for, page_language
from service.web.pages import form_values, read_form, redirect, render
from service.web.urls import path_for


async def _campaign(request: Request) -> service.CampaignView:
    async with database(request).transaction() as session:
        return await service.campaign_view(session, slug=request.path_params["slug"], now=session.now())


def _language(request: Request, view: service.CampaignView) -> str:
    return page_language(request, default=view.campaign.default_language)


def _manage_url(request: Request, view: service.CampaignView, lang: str) -> str:
    return path_for(request, "giving:fundraiser_manage", slug=view.campaign.slug) + f"?lang={lang}"


async def _own_pages(request: Request, view: service.CampaignView) -> list[FundraiserCard]:
    """The pages of the signed-in address in this campaign; empty when not signed in."""
    session_token = fundraiser_session.token(request)
    if session_token is None:
        return []
    async with database(request).transaction() as session:
        return await fundraiser_views.own_pages(session, campaign=view.campaign, session_token=session_token)


def _chosen(pages: list[FundraiserCard], slug: str | None) -> FundraiserCard | None:
    """The page to edit: the one named (only among the address's own), else the newest when
    none is named. A named page that is not the address's own gives None: editing another
    page than the one the form was for would be a surprise (the caller shows the manage page)."""
    if not pages:
        return None
    if not slug:
        return pages[0]
    return next((card for card in pages if card.slug == slug), None)


def _ask_page(
    request: Request,
    view: service.CampaignView,
    *,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status_code: int = 200,
) -> Response:
    context = {"campaign": view.campaign, "values": values, "errors": errors}
    return render(
        request, "giving/fundraiser_manage_ask.html", context, status_code, language=_language(request, view)
    )


def _status_text(card: FundraiserCard, lang: str) -> str:
    _ = gettext_for(lang)
    texts = {
        "live": _("Your page is public."),
        "pending_approval": _("Your page waits for the nonprofit's approval."),
        "hidden": _("Your page is hidden by the nonprofit or Goodloop. Contact the nonprofit to ask why."),
        "ended": _("Your page has ended and no longer takes gifts."),
    }
    return texts.get(card.status, "")


async def _editor(
    request: Request,
    view: service.CampaignView,
    card: FundraiserCard,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    photo_values: Mapping[str, str] | None = None,
    photo_errors: Mapping[str, str] | None = None,
    pages: list[FundraiserCard] | None = None,
    status_code: int = 200,
) -> Response:
    lang = _language(request, view)
    async with database(request).transaction() as session:
        own_team = card.team.slug if card.team else ""
        asked = (values or {}).get("team_join", "")
        teams = await fundraiser_views.campaign_teams(session, view.campaign, include=[own_team, asked])
    current = {
        "title": card.title,
        "story": card.story_markdown,
        "goal": to_major_text(card.goal_minor, card.currency, lang),
        "team_choice": "join" if card.team else "none",
        "team_join": card.team.slug if card.team else "",
    }
    context: dict[str, Any] = {
        "campaign": view.campaign,
        "f": card,
        "pages": pages or [card],
        "teams": teams,
        "status_text": _status_text(card, lang),
        "need_approval": view.campaign.fundraisers_need_approval and card.status == "live",
        "nonprofit": view.nonprofit,
        "page_url": path_for(
            request, "giving:fundraiser", slug=view.campaign.slug, fundraiser_slug=card.slug
        ),
        "values": values if values is not None else current,
        "errors": errors or {},
        "photo_values": photo_values or {"alt": card.photo_alt or ""},
        "photo_errors": photo_errors or {},
    }
    return render(request, "giving/fundraiser_manage.html", context, status_code, language=lang)


async def manage_page(request: Request) -> Response:
    view = await _campaign(request)
    fundraiser_views.require_fundraisers(view)
    pages = await _own_pages(request, view)
    if not pages:
        return _ask_page(request, view, values={}, errors={})
    card = _chosen(pages, request.query_params.get("page"))
    if card is None:
        return redirect(_manage_url(request, view, _language(request, view)))
    return await _editor(request, view, card, pages=pages)


async def ask_for_link(request: Request) -> Response:
    values = form_values(await read_form(request))
    view = await _campaign(request)
    fundraiser_views.require_fundraisers(view)
    lang = _language(request, view)
    _ = gettext_for(lang)
    email = values.get("email", "").strip()
    if "@" not in email or len(email) > 254:
        errors = {"email": _("Enter your email address, such as name@example.org.")}
        return _ask_page(request, view, values=values, errors=errors, status_code=422)
    try:
        await limits.enforce_sign_in_limits(request, email)
        await fundraiser_actions.send_sign_in_link(database(request), view=view, email=email, language=lang)
    except ValidationFailed as e:
        return _ask_page(request, view, values=values, errors=e.fields, status_code=422)
    except RateLimited as e:
        errors = {"email": _("Too many sign-in links were asked for; wait a while and try again.")}
        response = _ask_page(request, view, values=values, errors=errors, status_code=429)
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    return message_page(
        request,
        view,
        state="link_sent",
        heading=_("Check your email"),
        paragraphs=[
            _(
                "If this address started a page for %(campaign)s, we emailed it a link that signs you in. "
                "It works once, for a short while.",
                campaign=view.campaign.title,
            ),
            _("Nothing arrived after a few minutes? Look in your spam folder, or ask for a new link."),
        ],
    )


async def sign_in_page(request: Request) -> Response:
    view = await _campaign(request)
    lang = _language(request, view)
    _ = gettext_for(lang)
    token = str(request.path_params["token"])
    action = path_for(request, "giving:fundraiser_sign_in_submit", slug=view.campaign.slug, token=token)
    return button_page(
        request,
        view,
        heading=_("Edit your fundraiser"),
        text=_("Press the button to sign in and edit your page in this browser."),
        button=_("Sign in"),
        action=action + f"?lang={lang}",
    )


async def sign_in(request: Request) -> Response:
    await read_form(request)
    view = await _campaign(request)
    fundraiser_views.require_fundraisers(view)
    lang = _language(request, view)
    _ = gettext_for(lang)
    opened = await fundraiser_actions.spend_sign_in_link(
        database(request), view=view, token=str(request.path_params["token"])
    )
    if opened is None:
        return message_page(
            request,
            view,
            state="expired",
            heading=_("This link no longer works"),
            paragraphs=[
                _("A sign-in link works once, for a short while. Ask for a new one and use the newest email.")
            ],
            link={"url": _manage_url(request, view, lang), "text": _("Ask for a new link")},
            status_code=410,
        )
    response = redirect(_manage_url(request, view, lang))
    fundraiser_session.set_cookie(request, response, view.campaign.slug, opened.token, opened.lifetime)
    return response


async def save(request: Request) -> Response:
    form = form_values(await read_form(request))
    values = {k: v for k, v in form.items() if k in FORM_FIELDS}
    view = await _campaign(request)
    fundraiser_views.require_fundraisers(view)
    card = _chosen(await _own_pages(request, view), form.get("page"))
    lang = _language(request, view)
    if card is None:
        return redirect(_manage_url(request, view, lang))
    _ = gettext_for(lang)
    try:
        goal = goal_minor(values.get("goal", ""), view.campaign.currency, lang)
    except AmountError as e:
        errors = {"goal": str(e)}
        return await _editor(request, view, card, values=values, errors=errors, status_code=422)
    try:
        await fundraiser_actions.edit_fundraiser(
            database(request),
            view=view,
            session_token=fundraiser_session.token(request),
            card=card,
            values=values,
            goal_minor=goal,
        )
    except ValidationFailed as e:
        return await _editor(request, view, card, values=values, errors=e.fields, status_code=422)
    except IllegalFundraiserTransition:
        # A hidden or ended page is not editable (campaigns.fundraising.managing).
        errors = {"form": _("This page can no longer be changed.")}
        return await _editor(request, view, card, values=values, errors=errors, status_code=409)
    except SignInRequired:
        return redirect(_manage_url(request, view, lang))
    return redirect(_manage_url(request, view, lang) + f"&page={card.slug}#saved")


async def upload_photo(request: Request) -> Response:
    form = await read_form(request, max_files=1)
    view = await _campaign(request)
    fundraiser_views.require_fundraisers(view)
    page = form.get("page")
    card = _chosen(await _own_pages(request, view), page if isinstance(page, str) else None)
    lang = _language(request, view)
    if card is None:
        return redirect(_manage_url(request, view, lang))
    _ = gettext_for(lang)
    alt = form.get("alt")
    values = {"alt": alt if isinstance(alt, str) else ""}
    try:
        await limits.enforce_photo_limits(request, card.id)
        data, alt_text = await read_cover_form(form)
        await fundraiser_actions.set_photo(
            database(request),
            store=media_store(request),
            view=view,
            session_token=fundraiser_session.token(request),
            card=card,
            data=data,
            alt=alt_text,
        )
    except ValidationFailed as e:
        return await _editor(request, view, card, photo_values=values, photo_errors=e.fields, status_code=422)
    except IllegalFundraiserTransition:
        errors = {"image": _("This page can no longer be changed.")}
        return await _editor(request, view, card, photo_values=values, photo_errors=errors, status_code=409)
    except SignInRequired:
        return redirect(_manage_url(request, view, lang))
    except RateLimited as e:
        errors = {"image": _("Too many photos were uploaded; wait a while and try again.")}
        response = await _editor(
            request, view, card, photo_values=values, photo_errors=errors, status_code=429
        )
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    except (InvalidImage, ImageTooLarge) as e:
        errors = {"image": _("This file cannot be used as a photo: %(reason)s.", reason=e.detail)}
        return await _editor(
            request, view, card, photo_values=values, photo_errors=errors, status_code=e.status_code
        )
    return redirect(_manage_url(request, view, lang) + f"&page={card.slug}#photo")


async def sign_out(request: Request) -> Response:
    await read_form(request)
    view = await _campaign(request)
    await fundraiser_actions.sign_out(database(request), session_token=fundraiser_session.token(request))
    response = redirect(_manage_url(request, view, _language(request, view)))
    fundraiser_session.clear_cookie(request, response, view.campaign.slug)
    return response


routes = [
    Route("/c/{slug:str}/fundraisers/manage", manage_page, methods=["GET"], name="giving:fundraiser_manage"),
    Route("/c/{slug:str}/fundraisers/manage", save, methods=["POST"], name="giving:fundraiser_manage_submit"),
    Route(
        "/c/{slug:str}/fundraisers/manage/link", ask_for_link, methods=["POST"], name="giving:fundraiser_link"
    ),
    Route(
        "/c/{slug:str}/fundraisers/manage/photo",
        upload_photo,
        methods=["POST"],
        name="giving:fundraiser_photo",
        max_body_size=UPLOAD_BODY_BYTES,
    ),
    Route(
        "/c/{slug:str}/fundraisers/manage/sign-out",
        sign_out,
        methods=["POST"],
        name="giving:fundraiser_sign_out",
    ),
    Route(
        "/c/{slug:str}/fundraisers/sign-in/{token:str}",
        sign_in_page,
        methods=["GET"],
        name="giving:fundraiser_sign_in",
    ),
    Route(
        "/c/{slug:str}/fundraisers/sign-in/{token:str}",
        sign_in,
        methods=["POST"],
        name="giving:fundraiser_sign_in_submit",
    ),
]
