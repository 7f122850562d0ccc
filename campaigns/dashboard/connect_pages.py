"""Dashboard: connect the organisation's Stripe Express account (owners only)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from campaigns.dashboard.auth import require_actor, signed_in
from campaigns.nonprofits import onboarding
from service.settings import Settings
from service.web.context import database, settings, stripe_client
from service.web.middleware import DEFAULT_CSP
from service.web.pages import flash, read_form, redirect

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
    url = await onboarding.onboarding_url(
        client, stripe_account_id=account_id, base_url=settings(request).public_base_url
    )
    return RedirectResponse(url, status_code=303)


@signed_in
async def stripe_return(request: Request) -> Response:
    """Back from Stripe: read the account's flags now rather than wait for the webhook."""
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        nonprofit = await onboarding.own_nonprofit(session, actor=actor)
    if nonprofit.stripe_account_id is None:
        return redirect("/dashboard")
    account = await onboarding.fetch_account(stripe_client(request), nonprofit.stripe_account_id)
    async with database(request).transaction() as session:
        await onboarding.record_account(session, account)
    flash(
        request,
        "Stripe is connected: you can take donations."
        if account.charges_enabled
        else "Stripe still needs some details before you can take donations.",
    )
    return redirect("/dashboard")


@signed_in
async def stripe_refresh(request: Request) -> Response:
    """Stripe's account link expired or was used: hand out a fresh one."""
    async with database(request).transaction() as session:
        actor = await require_actor(request, session)
        nonprofit = await onboarding.own_nonprofit(session, actor=actor)
    if nonprofit.stripe_account_id is None:
        return redirect("/dashboard")
    url = await onboarding.onboarding_url(
        stripe_client(request),
        stripe_account_id=nonprofit.stripe_account_id,
        base_url=settings(request).public_base_url,
    )
    return RedirectResponse(url, status_code=303)


routes = [
    Route("/dashboard/stripe/connect", connect_stripe, methods=["POST"]),
    Route(onboarding.RETURN_PATH, stripe_return, methods=["GET"]),
    Route(onboarding.REFRESH_PATH, stripe_refresh, methods=["GET"]),
]
