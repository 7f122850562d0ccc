"""/recurring/card/{token}: the emailed "update your card" link of a failed installment.

The failed-payment email (campaigns/recurring/mail.py) cannot hold a Stripe Billing Portal
link: the webhook's transaction may not call Stripe, and a portal session expires within
minutes. So the email links here. GET looks the token up (only its SHA-256 is stored,
recurring_payment_failures) and shows a button; only its POST (CSRF-checked) opens, outside the
transaction, a portal session for the gift's Stripe customer and redirects the donor there, so
mail scanners that fetch every link open nothing at Stripe. The link works for 30 days and
several times (a donor may come back), but not for a gift that has stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import stripe
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from stripe import RequestOptions
from stripe.params.billing_portal import SessionCreateParams as PortalSessionParams

from campaigns.campaign.models import Campaign
from campaigns.recurring import repository, service
from campaigns.recurring.models import STOPPED
from service.i18n import N_
from service.stripe_gateway import request_options
from service.unit_of_work import UnitOfWork
from service.web.context import database, stripe_client
from service.web.pages import read_form, render
from service.web.urls import public_url_for


@dataclass(frozen=True)
class _Found:
    gift_id: str
    customer_id: str | None
    language: str | None
    campaign_url: str
    problem: str | None


# Marked for the catalog (N_); the template translates them into the page's language.
_PROBLEMS = {
    "ready": (
        N_("Update your card"),
        N_(
            "Your last payment for this monthly or yearly gift did not go through. Stripe's secure page "
            "lets you change the card; Goodloop never sees its number."
        ),
    ),
    "unknown": (
        N_("This link does not work"),
        N_("The link is not valid or has expired. The latest email about your gift has a new one."),
    ),
    "stopped": (
        N_("This gift has stopped"),
        N_("This recurring gift is no longer running, so there is no card to update."),
    ),
    "unavailable": (
        N_("Stripe is not available"),
        N_("Stripe's page could not be opened right now; nothing changed. Please try again in a minute."),
    ),
}


async def _find(session: UnitOfWork, request: Request, token: str) -> _Found | None:
    failure = await repository.failure_by_digest(session, service.card_link_digest(token))
    if failure is None or failure.card_link_expires_at <= session.now():
        return None
    gift = await repository.get_gift(session, failure.recurring_gift_id)
    campaign = await session.get(Campaign, gift.campaign_id) if gift else None
    if gift is None or campaign is None:
        return None
    return _Found(
        gift_id=str(gift.id),
        customer_id=gift.stripe_customer_id,
        language=gift.language,
        campaign_url=public_url_for(request, "giving:campaign", slug=campaign.slug),
        problem="stopped" if gift.status in STOPPED or gift.stripe_customer_id is None else None,
    )


def _page(
    request: Request, state: str, *, campaign_url: str | None, status_code: int, token: str | None = None
) -> Response:
    heading, message = _PROBLEMS[state]
    context = {
        "state": state,
        "heading": heading,
        "message": message,
        "campaign_url": campaign_url,
        "token": token,
    }
    response = render(request, "recurring/card.html", context, status_code=status_code)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    return response


async def _look_up(request: Request, token: str) -> tuple[_Found | None, Response | None]:
    async with database(request).transaction() as session:
        found = await _find(session, request, token)
    if found is None:
        return None, _page(request, "unknown", campaign_url=None, status_code=404)
    if found.problem is not None or found.customer_id is None:
        return None, _page(request, "stopped", campaign_url=found.campaign_url, status_code=410)
    return found, None


async def card(request: Request) -> Response:
    token: str = request.path_params["token"]
    found, refused = await _look_up(request, token)
    if refused is not None or found is None:
        return refused or _page(request, "unknown", campaign_url=None, status_code=404)
    return _page(request, "ready", campaign_url=found.campaign_url, status_code=200, token=token)


async def open_portal(request: Request) -> Response:
    await read_form(request)
    token: str = request.path_params["token"]
    found, refused = await _look_up(request, token)
    if refused is not None or found is None or found.customer_id is None:
        return refused or _page(request, "unknown", campaign_url=None, status_code=404)
    params: PortalSessionParams = {"customer": found.customer_id, "return_url": found.campaign_url}
    if found.language in ("nl", "en"):
        params["locale"] = cast(Literal["nl", "en"], found.language)
    # One portal session per gift and minute of the unit's clock: a double click reuses it.
    minute = int(database(request).clock.now().timestamp()) // 60
    options = cast(RequestOptions, request_options(f"recurring:{found.gift_id}:card:{minute}"))
    try:
        portal = await stripe_client(request).v1.billing_portal.sessions.create_async(params, options=options)
    except stripe.StripeError:
        return _page(request, "unavailable", campaign_url=found.campaign_url, status_code=503)
    return RedirectResponse(portal.url, status_code=303, headers={"Cache-Control": "no-store"})


routes = [
    Route("/recurring/card/{token:str}", card, methods=["GET"], name="recurring:card"),
    Route("/recurring/card/{token:str}", open_portal, methods=["POST"], name="recurring:card_submit"),
]
