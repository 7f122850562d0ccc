"""Dashboard: connect the organisation's Stripe Express account (owners only)."""

from __future__ import annotations

from urllib.parse import urlsplit

import stripe
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from campaigns.dashboard.auth import require_actor, signed_in
from campaigns.dashboard.language import translator
from campaigns.nonprofits import onboarding
from service.settings import Settings
from service.web.context import database, stripe_client
from service.web.middleware import DEFAULT_CSP
from service.web.pages import flash, read_form, redirect
from service.web.urls import path_for, public_url_for

STRIPE_CONNECT_ORIGIN = "https://connect.stripe.com"


def allow_connect_redirect(response: Response, config: Settings) -> Response:
    """Browsers apply `form-action` to where a form's redirects lead, so the page holding the
    Connect button must allow Stripe's onboarding origin (or the sandbox's)."""
    targets = [STRIPE_CONNECT_ORIGIN]
    if config.uses_stripe_sandbox:
        api = urlsplit(config.stripe_api_base)
        targets.append(f"{api.scheme}://{api.netloc}")
    response.headers["Content-Security-Policy"] = DEFAULT_CSP.replace(
        "form-action 'self'", "form-action 'self' " + " ".join(targets)
    )
    response.headers["X-Frame-Options"] = "DENY"
    return response


@signed_in
async def connect_stripe(request: Request) -> Response:
    await read_form(request)
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        nonprofit = await onboarding.own_nonprofit(session, actor=actor)
    client = stripe_client(request)
    account_id = nonprofit.stripe_account_id
    if account_id is None:
        created = await onboarding.create_express_account(client, nonprofit)
        async with database(request).transaction() as session:
            account_id = await onboarding.store_account(
                session, nonprofit_id=nonprofit.id, stripe_account_id=created
            )
    return await _to_onboarding(request, client, account_id)


@signed_in
async def stripe_return(request: Request) -> Response:
    """Back from Stripe: read the account's flags now rather than wait for the webhook."""
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        nonprofit = await onboarding.own_nonprofit(session, actor=actor)
    if nonprofit.stripe_account_id is None:
        return redirect(path_for(request, "dashboard:home"))
    account = await onboarding.fetch_account(stripe_client(request), nonprofit.stripe_account_id)
    async with database(request).transaction() as session:
        await onboarding.record_account(session, account)
    _ = translator(request)
    flash(
        request,
        _("Stripe is connected: you can take donations.")
        if account.charges_enabled
        else _("Stripe still needs some details before you can take donations."),
    )
    return redirect(path_for(request, "dashboard:home"))


@signed_in
async def stripe_refresh(request: Request) -> Response:
    """Stripe's account link expired or was used: hand out a fresh one."""
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        nonprofit = await onboarding.own_nonprofit(session, actor=actor)
    if nonprofit.stripe_account_id is None:
        return redirect(path_for(request, "dashboard:home"))
    return await _to_onboarding(request, stripe_client(request), nonprofit.stripe_account_id)


async def _to_onboarding(request: Request, client: stripe.StripeClient, stripe_account_id: str) -> Response:
    url = await onboarding.onboarding_url(
        client,
        stripe_account_id=stripe_account_id,
        refresh_url=public_url_for(request, "dashboard:stripe_refresh"),
        return_url=public_url_for(request, "dashboard:stripe_return"),
    )
    return RedirectResponse(url, status_code=303)


routes = [
    Route("/stripe/connect", connect_stripe, methods=["POST"], name="stripe_connect"),
    Route("/stripe/return", stripe_return, methods=["GET"], name="stripe_return"),
    Route("/stripe/refresh", stripe_refresh, methods=["GET"], name="stripe_refresh"),
]
