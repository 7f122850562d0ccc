"""The one way Goodloop talks to Stripe: the official SDK's async StripeClient.

The base URL comes from STRIPE_API_BASE, so the same code talks to Stripe in production and
to the local sandbox in development and tests. Every mutating call carries an idempotency
key derived from our own row (e.g. `donation:<id>:checkout`), so a retry after a timeout or a
crash can never create a second object. Calls are never made inside a database transaction.
"""

from __future__ import annotations

from typing import Any

import stripe

from service.settings import Settings


class StripeUnavailable(Exception):
    """Stripe (or the sandbox) could not be reached or answered with a server error."""


def create_client(settings: Settings, *, http_client: stripe.HTTPClient | None = None) -> stripe.StripeClient:
    base = settings.stripe_api_base
    return stripe.StripeClient(
        settings.stripe_api_key,
        base_addresses={"api": base, "connect": base, "files": base, "meter_events": base},
        http_client=http_client or stripe.HTTPXClient(),
        max_network_retries=2,
    )


def request_options(idempotency_key: str, **extra: Any) -> dict[str, Any]:
    return {"idempotency_key": idempotency_key, **extra}
