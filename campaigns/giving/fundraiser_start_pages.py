"""Starting a fundraiser from the campaign page (#15): the form, "check your email", and the
emailed confirmation link.

- `GET/POST /c/{slug}/fundraisers/new`: a public form without a session, so it carries the
  signed form token the donate form uses (service/web/tokens.py, subject
  `fundraiser-start:{slug}`); a forged or stale post is a 403 with the message on the form and
  writes nothing. Errors appear next to their field, what was typed is kept. Creation is rate
  limited per browser, email and network (campaigns.fundraising.limits, as the public API).
- `GET /c/{slug}/fundraisers/sent`: "check your email", the same for every address.
- `GET /c/{slug}/fundraisers/confirm/{token}`: a Confirm button only (mail scanners fetch
  links; they must not spend them). Its CSRF-checked POST confirms, then shows the live page
  or "waiting for the nonprofit's approval".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.fundraising import limits
from campaigns.giving import fundraiser_actions, fundraiser_views, service
from service.errors import RateLimited, ValidationFailed
from service.money import MoneyError, currency
from service.web import tokens
from service.web.context import database, settings
from service.web.forms import AmountError, to_minor
from service.web.language import gettext_for, page_language, remember, template_context
from service.web.pages import read_form, redirect, render, templates
from service.web.urls import path_for

FORM_FIELDS = ("name", "email", "title", "story", "goal", "team_choice", "team_join", "team_name")


def _token_subject(slug: str) -> str:
    return f"fundraiser-start:{slug}"


async def _campaign(request: Request, slug: str) -> service.CampaignView:
    async with database(request).transaction() as session:
        return await service.campaign_view(session, slug=slug, now=session.now())


def _language(request: Request, view: service.CampaignView) -> str:
    return page_language(request, default=view.campaign.default_language)


def public_page(
    request: Request, template: str, context: dict[str, Any], status_code: int, *, lang: str
) -> Response:
    """A page of the public path that opens no session (like the donate form's page): the
    language's template context, never cached (it carries a form token or a one-off answer)."""
    response = templates.TemplateResponse(
        request, template, {**template_context(lang), **context}, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = lang
    response.headers["Referrer-Policy"] = "no-referrer"
    remember(request, response)
    return response


async def _form(
    request: Request,
    view: service.CampaignView,
    *,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status_code: int = 200,
) -> Response:
    async with database(request).transaction() as session:
        teams = await fundraiser_views.campaign_teams(
            session, view.campaign, include=[values.get("team_join", "")]
        )
    context: dict[str, Any] = {
        "campaign": view.campaign,
        "nonprofit": view.nonprofit,
        "need_approval": view.campaign.fundraisers_need_approval,
        "teams": teams,
        "values": values,
        "errors": errors,
        "form_token": tokens.form_token(settings(request).secret_key, _token_subject(view.campaign.slug)),
    }
    return public_page(
        request, "giving/fundraiser_start.html", context, status_code, lang=_language(request, view)
    )


async def start_page(request: Request) -> Response:
    view = await _campaign(request, request.path_params["slug"])
    fundraiser_views.require_fundraisers(view)
    team = request.query_params.get("team", "")
    values = {"team_choice": "join", "team_join": team} if team else {}
    return await _form(request, view, values=values, errors={})


def goal_minor(text: str, currency_code: str, lang: str) -> int | None:
    """The optional goal as typed in the page's language (`1250.50`, or `1.250,50` in Dutch);
    AmountError with a sentence in that language (the other language's separator is refused,
    never guessed: a goal must not come out a hundred times off)."""
    if not text.strip():
        return None
    try:
        amount = to_minor(text, currency(currency_code), lang)
    except MoneyError as e:
        raise AmountError(str(e)) from e
    if amount <= 0:
        raise AmountError(gettext_for(lang)("Type your goal as an amount, such as 500, or leave it empty."))
    return amount


async def submit_start(request: Request) -> Response:
    slug: str = request.path_params["slug"]
    form = await request.form(max_files=0, max_fields=len(FORM_FIELDS) + 2, max_part_size=64 * 1024)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k in FORM_FIELDS}
    view = await _campaign(request, slug)
    lang = _language(request, view)
    _ = gettext_for(lang)
    sent_token = form.get("form_token")
    token = sent_token if isinstance(sent_token, str) else None
    if not tokens.form_token_valid(settings(request).secret_key, token, _token_subject(slug)):
        message = _("This form expired. Please check your details and press the button again.")
        return await _form(request, view, values=values, errors={"form": message}, status_code=403)
    fundraiser_views.require_fundraisers(view)
    try:
        goal = goal_minor(values.get("goal", ""), view.campaign.currency, lang)
    except AmountError as e:
        errors = {**fundraiser_actions.field_errors(view, values), "goal": str(e)}
        return await _form(request, view, values=values, errors=errors, status_code=422)
    # Typos first: a form sent back for a missing title does not use up the address's few
    # tries (the limits count pages that could be started).
    if errors := fundraiser_actions.field_errors(view, values):
        return await _form(request, view, values=values, errors=errors, status_code=422)
    try:
        await limits.enforce_creation_limits(request, values.get("email", ""))
        await fundraiser_actions.start_fundraiser(
            database(request), view=view, values=values, goal_minor=goal, language=lang
        )
    except ValidationFailed as e:
        return await _form(request, view, values=values, errors=e.fields, status_code=422)
    except RateLimited as e:
        message = _("Too many pages were started from here; wait a while and try again.")
        response = await _form(request, view, values=values, errors={"form": message}, status_code=429)
        response.headers["Retry-After"] = str(e.retry_after_s)
        return response
    return redirect(path_for(request, "giving:fundraiser_sent", slug=slug) + f"?lang={lang}")


def message_page(
    request: Request,
    view: service.CampaignView,
    *,
    state: str,
    heading: str,
    paragraphs: list[str],
    link: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    context = {"state": state, "heading": heading, "paragraphs": paragraphs, "link": link}
    return public_page(
        request, "giving/fundraiser_message.html", context, status_code, lang=_language(request, view)
    )


async def sent_page(request: Request) -> Response:
    view = await _campaign(request, request.path_params["slug"])
    _ = gettext_for(_language(request, view))
    return message_page(
        request,
        view,
        state="sent",
        heading=_("Check your email"),
        paragraphs=[
            _(
                "We emailed you a link to confirm your page. "
                "Your page goes public once you press the button in that email."
            ),
            _("Nothing arrived after a few minutes? Look in your spam folder."),
        ],
    )


def button_page(
    request: Request, view: service.CampaignView, *, heading: str, text: str, button: str, action: str
) -> Response:
    context = {"heading": heading, "text": text, "button": button, "action": action}
    response = render(request, "giving/fundraiser_button.html", context, language=_language(request, view))
    # The token is in this page's address: never hand it to another site as a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def confirm_page(request: Request) -> Response:
    slug, token = request.path_params["slug"], str(request.path_params["token"])
    view = await _campaign(request, slug)
    lang = _language(request, view)
    _ = gettext_for(lang)
    action = path_for(request, "giving:fundraiser_confirm_submit", slug=slug, token=token) + f"?lang={lang}"
    return button_page(
        request,
        view,
        heading=_("Confirm your fundraiser"),
        text=_(
            "Press the button to confirm your email address and your page for %(campaign)s.",
            campaign=view.campaign.title,
        ),
        button=_("Confirm my page"),
        action=action,
    )


async def confirm(request: Request) -> Response:
    await read_form(request)
    slug, token = request.path_params["slug"], str(request.path_params["token"])
    view = await _campaign(request, slug)
    _ = gettext_for(_language(request, view))
    confirmed = await fundraiser_actions.confirm_fundraiser(database(request), view=view, token=token)
    if confirmed is None:
        return message_page(
            request,
            view,
            state="expired",
            heading=_("This link no longer works"),
            paragraphs=[
                _(
                    "A confirmation link works once and expires after a while. "
                    "Start your page again to get a new one."
                )
            ],
            link={
                "url": path_for(request, "giving:fundraiser_start", slug=slug),
                "text": _("Start a fundraiser"),
            },
            status_code=410,
        )
    if confirmed.live:
        url = path_for(request, "giving:fundraiser", slug=slug, fundraiser_slug=confirmed.slug)
        return redirect(url + "?lang=" + _language(request, view))
    return message_page(
        request,
        view,
        state="awaiting_approval",
        heading=_("Your email is confirmed"),
        paragraphs=[
            _(
                "%(nonprofit)s looks at each new page before it goes public. We email you when yours is.",
                nonprofit=view.nonprofit.name,
            ),
        ],
    )


routes = [
    Route("/c/{slug:str}/fundraisers/new", start_page, methods=["GET"], name="giving:fundraiser_start"),
    Route(
        "/c/{slug:str}/fundraisers/new", submit_start, methods=["POST"], name="giving:fundraiser_start_submit"
    ),
    Route("/c/{slug:str}/fundraisers/sent", sent_page, methods=["GET"], name="giving:fundraiser_sent"),
    Route(
        "/c/{slug:str}/fundraisers/confirm/{token:str}",
        confirm_page,
        methods=["GET"],
        name="giving:fundraiser_confirm",
    ),
    Route(
        "/c/{slug:str}/fundraisers/confirm/{token:str}",
        confirm,
        methods=["POST"],
        name="giving:fundraiser_confirm_submit",
    ),
]
