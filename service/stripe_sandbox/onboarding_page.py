"""The sandbox's Express onboarding page, reached through an account link's `url`.

Like Stripe's, a link is single-use and short-lived: a used or expired link sends the owner to
`refresh_url`, where Goodloop makes a new one.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from service.stripe_sandbox import connect, objects
from service.stripe_sandbox.actions import perform
from service.stripe_sandbox.api import sandbox_state
from service.stripe_sandbox.checkout_page import render
from service.stripe_sandbox.state import AccountLinkRecord


def _link(request: Request) -> AccountLinkRecord | None:
    return sandbox_state(request).account_links.get(request.path_params["token"])


def _usable(link: AccountLinkRecord) -> bool:
    return not link.used and objects.now() < link.expires_at


def _not_found(request: Request) -> Response:
    return render(request, "sandbox/not_found.html", {"what": "account link"}, status_code=404)


async def show_onboarding(request: Request) -> Response:
    link = _link(request)
    if link is None:
        return _not_found(request)
    if not _usable(link):
        return RedirectResponse(link.refresh_url, status_code=303)
    account = sandbox_state(request).get("account", link.account)
    return render(
        request, "sandbox/onboarding.html", {"account": account, "link": link, "action_url": str(request.url)}
    )


async def submit_onboarding(request: Request) -> Response:
    link = _link(request)
    if link is None:
        return _not_found(request)
    if not _usable(link):
        return RedirectResponse(link.refresh_url, status_code=303)
    state = sandbox_state(request)
    link.used = True
    await perform(state, lambda: connect.complete_onboarding(state, link.account))
    return RedirectResponse(link.return_url, status_code=303)


routes = [
    Route("/onboarding/{token}", show_onboarding, methods=["GET"], name="onboarding"),
    Route("/onboarding/{token}", submit_onboarding, methods=["POST"], name="onboarding_submit"),
]
