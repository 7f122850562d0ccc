"""The Stripe sandbox as an ASGI app, mounted at SANDBOX_PATH when there is no Stripe key.

All state is in memory, per app instance: a restart forgets every session, payment and event.
Production never mounts it (service/app.py checks `uses_stripe_sandbox and not is_production`).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from service.settings import Settings
from service.stripe_sandbox import (
    billing_api,
    billing_control,
    billing_portal_page,
    checkout_page,
    control,
    invoice_page,
    onboarding_page,
    v1,
)
from service.stripe_sandbox.api import api_routes, stripe_error_response
from service.stripe_sandbox.errors import StripeApiError
from service.stripe_sandbox.events import Deliverer, DeliveryPolicy
from service.stripe_sandbox.state import SandboxState

__all__ = ["DeliveryPolicy", "SandboxState", "create_sandbox_app"]

DEFAULT_SETTLE_AFTER_S = 5.0


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = StripeApiError(
            f"Unrecognized request URL ({request.method}: {request.url.path}).", status_code=404
        )
    else:
        error = StripeApiError(str(exc.detail), status_code=exc.status_code)
    return stripe_error_response(error)


def create_sandbox_app(
    settings: Settings,
    *,
    delivery: DeliveryPolicy | None = None,
    webhook_base_url: str | None = None,
    settle_after_s: float | None = DEFAULT_SETTLE_AFTER_S,
) -> Starlette:
    """A fresh sandbox. Webhooks go to `webhook_base_url` (default: the public base URL)."""
    deliverer = Deliverer(
        base_url=(webhook_base_url or settings.public_base_url).rstrip("/"),
        platform_secret=settings.webhook_secret,
        connect_secret=settings.connect_webhook_secret,
        policy=delivery or DeliveryPolicy(),
    )
    app = Starlette(
        routes=[
            *api_routes([*v1.HANDLERS, *billing_api.HANDLERS]),
            *checkout_page.routes,
            *onboarding_page.routes,
            *invoice_page.routes,
            *billing_portal_page.routes,
            *control.routes,
            *billing_control.routes,
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.sandbox = SandboxState(deliverer=deliverer, settle_after_s=settle_after_s)
    return app
